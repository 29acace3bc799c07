#!/usr/bin/env python3
"""Writes .npy files whose object payload is pickled with protocol 0 or 1 (the text opcodes
and the classic binary ones), as numpy's own writer does except for the protocol number, and
a JSON file describing what np.load(allow_pickle=True) returns for each, so the restricted
unpickler can be checked against it.

Usage: make-pickle-protocol01.py OUT_DIR
"""
import json
import os
import pickle
import sys

import numpy as np
from numpy.lib import format as npformat


def values():
    features = (np.arange(2 * 3 * 4, dtype=np.float32).reshape(2, 3, 4) / 7).astype(np.float32)
    yield "dataset", {"features": features, "target": np.array([1.0, 5.0]), "class_names": ["Tops", "Bags & boots"]}
    yield "scalars", {"int": 7, "negative": -123456, "big": 2 ** 70, "float": 1.5, "neg_float": -2.25e-8,
                      "inf": float("inf"), "true": True, "false": False, "none": None}
    yield "strings", {"ascii": "hello", "latin1": "caf\u00e9", "beyond_latin1": "\u2713 \u03bb \U0001F600",
                      "escapes": "back\\slash new\nline \r tab\t nul\x00 sub\x1a", "bytes": b"\x00\x01\xff'\"\\\n"}
    yield "containers", {"list": [1, [2, [3, []]], (4, 5)], "tuple": (None, "x", 2.0), "empty": {}, "nested": {"a": {"b": [1.0]}}}
    yield "arrays", {"i8": np.array([-1, 0, 2 ** 40], dtype=np.int64), "u8": np.arange(5, dtype=np.uint8),
                     "f64": np.array([[0.5, -1.0]]), "bool": np.array([True, False]), "fortran": np.asfortranarray(np.arange(6, dtype=np.int32).reshape(2, 3)),
                     "shared": [np.arange(3, dtype=np.int16)] * 2}


def describe(v):
    if isinstance(v, np.ndarray):
        return {"ndarray": str(v.dtype), "shape": list(v.shape), "data": [describe(x) for x in v.ravel(order="C").tolist()]}
    if isinstance(v, bytes):
        return {"bytes": v.hex()}
    if isinstance(v, float) and v != v:
        return {"float": "nan"}
    if isinstance(v, float) and v in (float("inf"), float("-inf")):
        return {"float": "inf" if v > 0 else "-inf"}
    if isinstance(v, int) and not isinstance(v, bool) and abs(v) > 2 ** 53:
        return {"bigint": str(v)}
    if isinstance(v, (list, tuple)):
        return [describe(x) for x in v]
    if isinstance(v, dict):
        return {k: describe(x) for k, x in v.items()}
    return v


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    expected = {}
    for protocol in (0, 1):
        for name, value in values():
            array = np.empty((), dtype=object)
            array[()] = value
            path = os.path.join(out, f"p{protocol}-{name}.npy")
            with open(path, "wb") as f:
                npformat.write_array_header_1_0(f, npformat.header_data_from_array_1_0(array))
                pickle.dump(array, f, protocol=protocol)
            back = np.load(path, allow_pickle=True)[()]
            expected[f"p{protocol}-{name}"] = describe(back)
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(expected, f)


if __name__ == "__main__":
    main()
