#!/usr/bin/python3
"""scikit-learn's answers for the report's metric tests.

Two uses:
  /usr/bin/python3 scripts/make-report-fixtures.py            rewrites test/fixtures/report/sklearn-metrics.json
  /usr/bin/python3 scripts/make-report-fixtures.py --stdin    reads {"cases": [...]} on stdin, writes answers on stdout

A case is {"yTrue": [...], "yPred": [...], "numClasses"?: int, "labels"?: [...],
"targetNames"?: [...], "digits": int, "zeroDivision": "warn" | 0 | 1}.
The test suite uses --stdin with freshly generated random cases when sklearn is
importable, and always checks the committed fixture (so it runs without Python).
"""
import json
import os
import sys
import warnings

import numpy as np
from sklearn.metrics import accuracy_score, classification_report, confusion_matrix
import sklearn


def answer(case):
    y_true = np.asarray(case["yTrue"], dtype=np.int64)
    y_pred = np.asarray(case["yPred"], dtype=np.int64)
    kwargs = dict(digits=case["digits"], zero_division=case["zeroDivision"])
    if case.get("labels") is not None:
        kwargs["labels"] = case["labels"]
    if case.get("targetNames") is not None:
        kwargs["target_names"] = case["targetNames"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        text = classification_report(y_true, y_pred, **kwargs)
        as_dict = classification_report(y_true, y_pred, output_dict=True, **kwargs)
        out = {
            "accuracy": float(accuracy_score(y_true, y_pred)),
            "text": text,
            "dict": as_dict,
        }
        # Large matrices would bloat the committed fixture; the random cases cover them.
        if len(np.union1d(y_true, y_pred)) <= 30:
            out["confusionMatrix"] = confusion_matrix(y_true, y_pred).tolist()
        if case.get("numClasses") is not None and case["numClasses"] <= 30:
            out["confusionMatrixN"] = confusion_matrix(
                y_true, y_pred, labels=list(range(case["numClasses"]))
            ).tolist()
    return out


def make_cases(seed=20240531):
    rng = np.random.default_rng(seed)
    cases = []
    sizes = [1, 3, 10, 57, 400]
    for size in sizes:
        for num_classes in [1, 2, 3, 5, 10, 17]:
            y_true = rng.integers(0, num_classes, size)
            # A mostly right classifier, and one class it never predicts.
            y_pred = np.where(rng.random(size) < 0.7, y_true, rng.integers(0, num_classes, size))
            if num_classes > 2:
                y_pred[y_pred == num_classes - 1] = 0
            case = {
                "yTrue": y_true.tolist(),
                "yPred": y_pred.tolist(),
                "digits": int(rng.choice([2, 4])),
                "zeroDivision": ["warn", 0, 1][int(rng.integers(0, 3))],
            }
            if num_classes >= 2 and rng.random() < 0.5:
                # Labels 0..C (C never present) with names: exercises 'micro avg'.
                case["numClasses"] = num_classes + 1
                case["labels"] = list(range(num_classes + 1))
                case["targetNames"] = ["class %d" % i for i in range(num_classes + 1)]
            cases.append(case)
    # Hand-picked edge cases.
    cases.append({"yTrue": [1, 1, 1], "yPred": [1, 1, 0], "labels": [1, 2, 3], "digits": 2, "zeroDivision": "warn"})
    cases.append({"yTrue": [0, 1, 2, 3], "yPred": [0, 1, 2, 3], "labels": [3, 1], "digits": 3, "zeroDivision": 1})
    cases.append({"yTrue": [0, 0, 1], "yPred": [2, 2, 2], "labels": [5, 6], "digits": 2, "zeroDivision": 1})
    cases.append({"yTrue": [0, 0, 1], "yPred": [2, 2, 2], "labels": [5, 6], "digits": 2, "zeroDivision": 0})
    cases.append({"yTrue": [0, 0, 1], "yPred": [1, 2, 2], "labels": [2], "digits": 2, "zeroDivision": 1})
    cases.append({"yTrue": [0, 1, 2, 0, 1, 2, 0, 1], "yPred": [0, 2, 1, 0, 0, 1, 0, 1], "digits": 0, "zeroDivision": "warn",
                  "targetNames": ["T-shirt/top", "Trousers & dresses", "Bags & boots \u00e9\u00e8"]})
    # Ties at the rounding digit (0.125, 0.375, 0.625): Python rounds half to even.
    cases.append({"yTrue": [0] * 8 + [1] * 8, "yPred": [0] + [1] * 7 + [1] * 8, "digits": 2, "zeroDivision": "warn"})
    cases.append({"yTrue": [0] * 8 + [1] * 8, "yPred": [0] * 3 + [1] * 5 + [0] * 5 + [1] * 3, "digits": 2, "zeroDivision": "warn"})
    cases.append({"yTrue": [5, 7, 9, 7], "yPred": [5, 7, 7, 7], "digits": 5, "zeroDivision": "warn", "labels": [9, 7, 5, 7]})
    many = rng.integers(0, 150, 1200)
    cases.append({"yTrue": many.tolist(), "yPred": np.where(rng.random(1200) < 0.5, many, rng.integers(0, 150, 1200)).tolist(),
                  "digits": 4, "zeroDivision": "warn"})
    return cases


GROUP = {0: 1, 6: 1, 1: 2, 3: 2, 2: 3, 4: 3, 5: 4, 7: 4, 8: 5, 9: 5}
CLASS_NAMES = ["Tops", "Trousers & dresses", "Pullovers & coats", "Sandals & sneakers", "Bags & boots"]


def write_samples(directory, count=40):
    """The first training images of Debian's Fashion-MNIST, grouped as DESIGN.md says, for the figure tests."""
    import base64
    import gzip

    src = "/usr/share/datasets/fashion-mnist"
    if not os.path.exists(os.path.join(src, "train-images-idx3-ubyte.gz")):
        print("skipped samples: %s not found (apt-get install dataset-fashion-mnist)" % src)
        return
    with gzip.open(os.path.join(src, "train-images-idx3-ubyte.gz")) as f:
        images = np.frombuffer(f.read(), dtype=np.uint8, offset=16)[: count * 784]
    with gzip.open(os.path.join(src, "train-labels-idx1-ubyte.gz")) as f:
        labels = np.frombuffer(f.read(), dtype=np.uint8, offset=8)[:count]
    out = {
        "source": "Fashion-MNIST train-images-idx3-ubyte, first %d images (MIT licence)" % count,
        "shape": [count, 28, 28],
        "dtype": "uint8",
        "base64": base64.b64encode(images.tobytes()).decode("ascii"),
        "labels": [GROUP[int(l)] for l in labels],
        "classNames": CLASS_NAMES,
    }
    path = os.path.join(directory, "samples-40.json")
    with open(path, "w") as f:
        json.dump(out, f)
        f.write("\n")
    print("wrote %s" % os.path.normpath(path))


def main():
    if "--stdin" in sys.argv:
        cases = json.load(sys.stdin)["cases"]
        json.dump({"sklearn": sklearn.__version__, "answers": [answer(c) for c in cases]}, sys.stdout)
        return
    cases = make_cases()
    out = {
        "generatedBy": "scripts/make-report-fixtures.py",
        "sklearn": sklearn.__version__,
        "numpy": np.__version__,
        "cases": [{"case": c, "expected": answer(c)} for c in cases],
    }
    path = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "report", "sklearn-metrics.json")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(out, f, separators=(",", ":"))
        f.write("\n")
    print("wrote %s (%d cases)" % (os.path.normpath(path), len(cases)))
    write_samples(os.path.dirname(path))


if __name__ == "__main__":
    main()
