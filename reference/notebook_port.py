#!/usr/bin/python3
"""Python reference port of the Keras notebook (CNN + ResNet v1 on 5-class Fashion-MNIST).

A plain eager-PyTorch port with Keras semantics (docs/parity.md lists them); torchfit
benchmarks itself against it. Run with Debian's interpreter: /usr/bin/python3.
"""
import argparse
import json
import os
import platform
import resource
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402
import torch  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

from models import build_model, param_counts  # noqa: E402
from train import EarlyStopping, evaluate, fit, keras_lr_schedule, make_optimizer  # noqa: E402

DEFAULT_DATA = os.path.join(REPO, "data", "fashion_mnist_dataset_train.npy")
DEFAULT_HELDOUT = os.path.join(REPO, "data", "fashion_mnist_dataset_test.npy")


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def load_dataset(path):
    t0 = time.perf_counter()
    data = np.load(path, allow_pickle=True)[()]
    seconds = time.perf_counter() - t0
    return data, seconds


def to_tensors(x, y, device):
    """(N,28,28) float32 in [0,1] -> (N,1,28,28) float32; labels 0..C-1 int64."""
    xt = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)).unsqueeze(1).to(device)
    yt = torch.from_numpy(np.asarray(y).astype(np.int64)).to(device)
    return xt, yt


def pick_device(name):
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        sys.exit(f"--device {name}: CUDA is not available in this torch build ({torch.__version__})")
    return torch.device(name)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=DEFAULT_DATA, help="training .npy (pickled dict); default %(default)s")
    p.add_argument("--heldout", default=None,
                   help="extra held-out .npy to evaluate on (default: data/fashion_mnist_dataset_test.npy "
                        "if it exists; 'none' to skip)")
    p.add_argument("--models", default="cnn,resnet", help="comma list of cnn,resnet (default %(default)s)")
    p.add_argument("--depth", type=int, default=2, help="ResNet v1 depth, 6n+2 (default %(default)s)")
    p.add_argument("--epochs", type=int, default=25)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--threads", type=int, default=os.cpu_count(), help="torch.set_num_threads (default: cpu count)")
    p.add_argument("--device", default="auto", help="cpu | cuda | cuda:N | auto (default %(default)s: cuda if available)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--limit", type=int, default=None, help="train on the first N training samples only")
    p.add_argument("--adam", choices=["keras", "torch"], default="keras",
                   help="ResNet optimiser: Keras's Adam update form (default) or torch.optim.Adam(eps=1e-7)")
    p.add_argument("--lr-schedule", action="store_true",
                   help="attach the notebook's lr_schedule to the ResNet (the notebook defines but never uses it)")
    p.add_argument("--patience", type=int, default=10, help="CNN EarlyStopping patience (default %(default)s)")
    p.add_argument("--json", default=None, help="write results JSON here")
    p.add_argument("--save-dir", default=None, help="save each trained model's state_dict as <name>.pt here")
    p.add_argument("--load-cnn", default=None, help="load a CNN state_dict and only evaluate it")
    p.add_argument("--quiet", action="store_true", help="no per-epoch lines")
    return p.parse_args(argv)


def load_state_dict(model, path, device):
    state = torch.load(path, map_location=device)
    if isinstance(state, torch.nn.Module):
        state = state.state_dict()
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [k for k in missing if not k.endswith("num_batches_tracked")]
    if missing or unexpected:
        sys.exit(f"--load-cnn {path}: state_dict does not match the CNN: missing {missing}, "
                 f"unexpected {unexpected}")


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    device = pick_device(args.device)
    torch.manual_seed(args.seed)
    names = [m.strip() for m in args.models.split(",") if m.strip()]
    for name in names:
        if name not in ("cnn", "resnet", "relu_cnn"):
            sys.exit(f"--models: unknown model {name!r} (expected cnn, resnet and/or relu_cnn)")

    heldout_path = args.heldout
    if heldout_path is None:
        heldout_path = DEFAULT_HELDOUT if os.path.exists(DEFAULT_HELDOUT) else None
    elif heldout_path.lower() == "none":
        heldout_path = None

    # ---- data, as the notebook does it
    data, load_seconds = load_dataset(args.data)
    t0 = time.perf_counter()
    features = data["features"]
    target = data["target"] - 1
    x_train, x_rest, y_train, y_rest = train_test_split(features, target, test_size=0.10, random_state=0)
    x_test, x_val, y_test, y_val = train_test_split(x_rest, y_rest, test_size=0.5, random_state=0)
    if args.limit is not None:
        x_train, y_train = x_train[:args.limit], y_train[:args.limit]
    num_classes = int(target.max()) + 1
    del data, features, target, x_rest, y_rest
    xtr, ytr = to_tensors(x_train, y_train, device)
    xva, yva = to_tensors(x_val, y_val, device)
    xte, yte = to_tensors(x_test, y_test, device)
    del x_train, x_val, x_test
    prep_seconds = time.perf_counter() - t0
    heldout = None
    if heldout_path:
        hd, _ = load_dataset(heldout_path)
        heldout = to_tensors(hd["features"], hd["target"] - 1, device)
        del hd
    print(f"Loaded {args.data} in {load_seconds:.2f}s (split + tensors {prep_seconds:.2f}s): "
          f"train {len(ytr)}, val {len(yva)}, test {len(yte)}"
          + (f", held-out {len(heldout[1])}" if heldout else "")
          + f"; torch {torch.__version__}, device {device}, threads {torch.get_num_threads()}")

    result = {
        "torch_version": torch.__version__, "python": platform.python_version(),
        "device": str(device), "threads": torch.get_num_threads(), "seed": args.seed,
        "data": os.path.abspath(args.data), "heldout": heldout_path and os.path.abspath(heldout_path),
        "load_seconds": load_seconds, "prep_seconds": prep_seconds,
        "n_train": len(ytr), "n_val": len(yva), "n_test": len(yte),
        "batch_size": args.batch_size, "epochs": args.epochs, "models": {},
        "loadavg_start": os.getloadavg(),  # the machine may be shared: check before trusting timings
    }
    if device.type == "cuda":
        result["device_name"] = torch.cuda.get_device_name(device)

    # ---- evaluate-only mode
    if args.load_cnn:
        model = build_model("cnn", num_classes=num_classes).to(device)
        load_state_dict(model, args.load_cnn, device)
        res = {"params": param_counts(model)}
        for split, (x, y) in (("val", (xva, yva)), ("test", (xte, yte))) + ((("heldout", heldout),) if heldout else ()):
            ev = evaluate(model, x, y, args.batch_size, return_predictions=True)
            res[split] = {"loss": ev["loss"], "accuracy": ev["accuracy"],
                          "predictions": (ev["predictions"] + 1).tolist()}  # labels 1..5, as the notebook
            print(f"cnn ({args.load_cnn}) {split}: loss {ev['loss']:.4f} - accuracy {ev['accuracy']:.4f}")
        result["models"]["cnn"] = res
        result["peak_rss_mb"] = peak_rss_mb()
        if args.json:
            with open(args.json, "w") as f:
                json.dump(result, f, indent=1)
        return result

    # ---- train
    for name in names:
        torch.manual_seed(args.seed)
        model = build_model(name, depth=args.depth, num_classes=num_classes).to(device)
        counts = param_counts(model)
        opt = make_optimizer(name, model, args.adam)
        es = EarlyStopping(patience=args.patience) if name == "cnn" else None
        sched = keras_lr_schedule if (name == "resnet" and args.lr_schedule) else None
        label = name if name == "cnn" else f"resnet (depth {args.depth})"
        print(f"\n== {label}: total params {counts['total']:,} (trainable {counts['trainable']:,}, "
              f"non-trainable {counts['non_trainable']:,}); optimizer {type(opt).__name__}")
        t0 = time.perf_counter()
        hist = fit(model, opt, xtr, ytr, xva, yva, epochs=args.epochs, batch_size=args.batch_size,
                   seed=args.seed, early_stopping=es, lr_schedule=sched, verbose=not args.quiet)
        fit_seconds = time.perf_counter() - t0
        test = evaluate(model, xte, yte, args.batch_size)
        res = {
            "depth": args.depth if name == "resnet" else None,
            "optimizer": type(opt).__name__, "params": counts,
            "steps_per_epoch": hist["steps_per_epoch"], "stopped_epoch": hist["stopped_epoch"],
            "epochs_run": len(hist["epoch"]), "fit_seconds": fit_seconds,
            "history": {k: hist[k] for k in ("epoch", "loss", "accuracy", "val_loss", "val_accuracy",
                                             "seconds", "train_seconds", "ms_per_step", "loadavg")},
            # train = running means over the last epoch (what Keras's history reports)
            "final": {"train": {"loss": hist["loss"][-1], "accuracy": hist["accuracy"][-1]},
                      "val": {"loss": hist["val_loss"][-1], "accuracy": hist["val_accuracy"][-1]},
                      "test": test},
        }
        print(f"{label}: train accuracy {hist['accuracy'][-1]:.4f}, val accuracy {hist['val_accuracy'][-1]:.4f}, "
              f"test loss {test['loss']:.4f} - test accuracy {test['accuracy']:.4f}")
        if heldout:
            ho = evaluate(model, heldout[0], heldout[1], args.batch_size)
            res["final"]["heldout"] = ho
            print(f"{label}: held-out loss {ho['loss']:.4f} - accuracy {ho['accuracy']:.4f}")
        if args.save_dir:
            os.makedirs(args.save_dir, exist_ok=True)
            path = os.path.join(args.save_dir, f"{name}.pt")
            torch.save(model.state_dict(), path)
            res["saved"] = os.path.abspath(path)
        result["models"][name] = res

    result["peak_rss_mb"] = peak_rss_mb()
    result["loadavg_end"] = os.getloadavg()
    print(f"\npeak RSS {result['peak_rss_mb']:.0f} MB")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)
    return result


if __name__ == "__main__":
    main()
