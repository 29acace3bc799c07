#!/usr/bin/python3
"""Time inference the way a PyTorch user runs it: model.eval(), then model(x) under
torch.no_grad() on a batch of images (default 1,024 random 28x28), median of --reps.
Prints one JSON line: {"model", "depth", "images", "threads", "ms": median, "all": [...]}.

  /usr/bin/python3 reference/predict_bench.py --model resnet --depth 20 --threads 2
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402

from models import build_model  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", choices=["cnn", "resnet"], default="cnn")
    p.add_argument("--depth", type=int, default=2)
    p.add_argument("--images", type=int, default=1024)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--reps", type=int, default=7)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = build_model(args.model, depth=args.depth).eval()
    x = torch.rand(args.images, 1, 28, 28)
    times = []
    with torch.no_grad():
        model(x)  # warm-up
        for _ in range(args.reps):
            t0 = time.perf_counter()
            probs = torch.softmax(model(x), dim=1)
            times.append((time.perf_counter() - t0) * 1000)
    assert probs.shape == (args.images, 5)
    print(json.dumps({"model": args.model, "depth": args.depth if args.model == "resnet" else None, "images": args.images,
                      "threads": torch.get_num_threads(), "ms": sorted(times)[len(times) // 2], "all": times}))


if __name__ == "__main__":
    main()
