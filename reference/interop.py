"""Checkpoint interop between torchfit and the Python reference port (test/interop-python.test.js).

Run with Debian's interpreter: /usr/bin/python3 reference/interop.py <command> ...

  predict  --checkpoint P --images X.npy [--labels Y.npy] --out OUT.json [--model cnn|resnet --depth D]
      torch.load(P) (torchfit's checkpoint, or a plain state_dict file), loads its state_dict into the
      port's model with strict=True, and writes the softmax probabilities (N x C, float32 values as
      JSON numbers), the predicted classes and, with labels, the accuracy.

  export   --images X.npy [--labels Y.npy] --plain P1 --torchfit P2 --out OUT.json [--seed S] [--kind cnn|resnet --depth D]
      Builds the port's CNN (or ResNet), trains it for a few SGD steps on the images (so weights and BatchNorm
      running statistics are not their initial values), then writes P1 = torch.save(model.state_dict())
      (what users have) and P2 = the same weights in torchfit's checkpoint format, and the model's
      probabilities / accuracy on the images.

  variants --checkpoint P --dir D --out OUT.json
      Re-saves torchfit's checkpoint P with Python's torch.save in several altered forms (a wrong
      shape, a missing entry, an extra entry, a non-tensor entry, another architecture's fields, plain
      state_dicts...) and lists them with the error torchfit must give (none for those that must load).

The model definitions come from models.py (same module names as torchfit's: conv1, bn1, ... fc).
"""
import argparse
import collections
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.dont_write_bytecode = True  # no __pycache__ next to the reference port
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import models  # noqa: E402  (the reference port, unchanged)

CNN_SPEC = {"kind": "cnn", "depth": 0, "num_classes": 5, "channels": 1, "height": 28, "width": 28}


def load_images(path):
    x = np.load(path)
    if x.ndim == 3:
        x = x[:, None, :, :]
    return torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))


def state_dict_of(obj):
    """torchfit's checkpoint dict, or a plain state_dict."""
    if isinstance(obj, dict) and "state_dict" in obj and "format" in obj:
        return obj["state_dict"], obj.get("model")
    return obj, None


@torch.no_grad()
def probabilities(model, x, batch_size=256):
    model.eval()
    out = [F.softmax(model(x[i:i + batch_size]), dim=1) for i in range(0, x.shape[0], batch_size)]
    return torch.cat(out)


def report(model, args, out_path, extra=None):
    x = load_images(args.images)
    probs = probabilities(model, x)
    result = {"probs": probs.numpy().astype(np.float32).ravel().tolist(), "shape": list(probs.shape),
              "classes": probs.argmax(1).tolist(), "torch": torch.__version__}
    if args.labels:
        y = torch.from_numpy(np.load(args.labels).astype(np.int64))
        result["accuracy"] = float((probs.argmax(1) == y).double().mean().item())
    result.update(extra or {})
    with open(out_path, "w") as f:
        json.dump(result, f)


def cmd_predict(args):
    sd, spec = state_dict_of(torch.load(args.checkpoint, map_location="cpu"))
    kind = (spec or {}).get("kind", args.model)
    depth = int((spec or {}).get("depth", args.depth))
    model = models.build_model(kind, depth=depth, num_classes=int((spec or {}).get("num_classes", 5)))
    missing = model.load_state_dict(sd, strict=True)
    report(model, args, args.out, {"load": str(missing), "kind": kind, "keys": list(sd.keys())})


def cmd_export(args):
    torch.manual_seed(args.seed)
    model = models.build_model(args.kind, depth=args.depth, num_classes=5)
    spec = dict(CNN_SPEC, kind=args.kind, depth=args.depth if args.kind == "resnet" else 0)
    x = load_images(args.images)
    y = torch.from_numpy(np.load(args.labels).astype(np.int64)) if args.labels else torch.zeros(x.shape[0], dtype=torch.int64)
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    model.train()
    for step in range(6):
        idx = torch.arange(step * 32, step * 32 + 32) % x.shape[0]
        loss = F.cross_entropy(model(x[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    # The usual way: an OrderedDict (with its _metadata attribute).
    torch.save(model.state_dict(), args.plain)
    config = json.dumps({"config": {"kind": spec["kind"], "depth": spec["depth"], "numClasses": 5, "channels": 1, "height": 28, "width": 28},
                         "metadata": {"writtenBy": "reference/interop.py"}})
    # torchfit's format, the state_dict as a plain dict (an OrderedDict loads as well).
    torch.save({"format": "torchfit-model", "version": 1, "config": config, "model": spec,
                "state_dict": dict(model.state_dict())}, args.torchfit)
    report(model, args, args.out)


def cmd_variants(args):
    os.makedirs(args.dir, exist_ok=True)
    base = torch.load(args.checkpoint, map_location="cpu")
    out = []

    def write(name, obj, error, message):
        path = os.path.join(args.dir, name + ".pt")
        torch.save(obj, path)
        out.append({"name": name, "path": path, "error": error, "message": message})

    def fresh(drop_optimizer=True):
        c = torch.load(args.checkpoint, map_location="cpu")
        if drop_optimizer:
            c.pop("optimizer", None)
        return c

    c = fresh()
    c["state_dict"]["fc.weight"] = torch.zeros(3, c["state_dict"]["fc.weight"].shape[1])
    write("wrong-shape-fc", c, "CheckpointError", r"state_dict entry 'fc\.weight' has shape \[3, 1600\], the model expects \[5, 1600\]")
    c = fresh()
    c["state_dict"]["bn3.running_var"] = torch.ones(65)
    write("wrong-shape-buffer", c, "CheckpointError", r"state_dict entry 'bn3\.running_var' has shape \[65\], the model expects \[64\]")
    c = fresh()
    del c["state_dict"]["bn5.running_var"]
    write("missing-entry", c, "CheckpointError", r"state_dict lacks 'bn5\.running_var'")
    c = fresh()
    c["state_dict"]["fc2.weight"] = torch.zeros(2, 2)
    write("extra-entry", c, "CheckpointError", r"state_dict has an entry the model lacks: 'fc2\.weight'")
    c = fresh()
    c["state_dict"]["conv1.bias"] = [0.0] * 32
    write("non-tensor-entry", c, "CheckpointError", r"field 'state_dict' holds a non-tensor entry")
    c = fresh()
    c["model"] = dict(c["model"], kind="resnet", depth=2)
    write("other-architecture", c, "CheckpointError", r"state_dict lacks 'stem\.")
    c = fresh()
    c["model"] = dict(c["model"], height=100000)
    write("absurd-height", c, "CheckpointError", r"field 'model\.height' is 100000, expected 8\.\.4096")
    c = fresh()
    c["format"] = "pytorch"
    write("wrong-format", c, "CheckpointError", r"field 'format' is not 'torchfit-model'")
    c = fresh()
    c["version"] = 2
    write("future-version", c, "CheckpointError", r"unsupported checkpoint version")
    # Plain state_dicts (what torch.save(model.state_dict()) writes) load too; the architecture comes from the keys.
    write("plain-dict-state-dict", dict(fresh()["state_dict"]), None, None)
    write("plain-ordered-state-dict", collections.OrderedDict(fresh()["state_dict"]), None, None)
    sd = collections.OrderedDict(fresh()["state_dict"])
    sd["fc.weight"] = torch.zeros(5, 1599)
    write("plain-wrong-fc", sd, "CheckpointError", r"'fc\.weight' has shape \[5, 1599\].*pass \{ imageSize")
    write("resaved-without-optimizer", fresh(), None, None)
    write("resaved-with-optimizer", fresh(drop_optimizer=False), None, None)
    del base
    with open(args.out, "w") as f:
        json.dump(out, f)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("predict")
    a.add_argument("--checkpoint", required=True)
    a.add_argument("--images", required=True)
    a.add_argument("--labels")
    a.add_argument("--out", required=True)
    a.add_argument("--model", default="cnn")
    a.add_argument("--depth", type=int, default=2)
    b = sub.add_parser("export")
    b.add_argument("--images", required=True)
    b.add_argument("--labels")
    b.add_argument("--plain", required=True)
    b.add_argument("--torchfit", required=True)
    b.add_argument("--out", required=True)
    b.add_argument("--seed", type=int, default=0)
    b.add_argument("--kind", default="cnn", choices=["cnn", "resnet"])
    b.add_argument("--depth", type=int, default=2)
    c = sub.add_parser("variants")
    c.add_argument("--checkpoint", required=True)
    c.add_argument("--dir", required=True)
    c.add_argument("--out", required=True)
    args = p.parse_args()
    torch.set_num_threads(1)
    {"predict": cmd_predict, "export": cmd_export, "variants": cmd_variants}[args.cmd](args)


if __name__ == "__main__":
    main()
