#!/usr/bin/python3
"""Profile one training step of the notebook's CNN (or ResNet) with torch.profiler and print
the top ops by self CPU time. Default: CNN, batch 128, 2 threads, SGD(0.01), random 28x28 data.

  /usr/bin/python3 reference/profile_step.py [--steps 1] [--warmup 5] [--top 25]
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch.profiler import ProfilerActivity, profile, record_function  # noqa: E402

from models import build_model  # noqa: E402
from train import make_optimizer  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", choices=["cnn", "resnet"], default="cnn")
    p.add_argument("--depth", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--device", default="cpu")
    p.add_argument("--warmup", type=int, default=5, help="untimed steps first (default %(default)s)")
    p.add_argument("--steps", type=int, default=1, help="profiled steps (default %(default)s)")
    p.add_argument("--top", type=int, default=25)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--trace", default=None, help="also export a Chrome trace JSON here")
    args = p.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    device = torch.device(args.device)
    model = build_model(args.model, depth=args.depth).to(device)
    opt = make_optimizer(args.model, model)
    x = torch.rand(args.batch_size, 1, 28, 28, device=device)
    y = torch.randint(0, 5, (args.batch_size,), device=device)

    def step():
        logits = model(x)
        loss = F.cross_entropy(logits, y)
        reg = model.regularization_loss()
        if reg is not None:
            loss = loss + reg
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss

    model.train()
    for _ in range(args.warmup):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(max(args.steps, 5)):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    ms = (time.perf_counter() - t0) * 1000 / max(args.steps, 5)

    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
    with profile(activities=activities, record_shapes=True) as prof:
        for _ in range(args.steps):
            with record_function("train_step"):
                step()
        if device.type == "cuda":
            torch.cuda.synchronize()
    print(f"{args.model}: batch {args.batch_size}, threads {torch.get_num_threads()}, device {device}, "
          f"torch {torch.__version__}: {ms:.1f} ms/step unprofiled; {args.steps} step(s) profiled")
    sort = "self_cuda_time_total" if device.type == "cuda" else "self_cpu_time_total"
    print(prof.key_averages().table(sort_by=sort, row_limit=args.top))
    print(prof.key_averages(group_by_input_shape=True).table(sort_by=sort, row_limit=min(args.top, 15)))
    if args.trace:
        prof.export_chrome_trace(args.trace)


if __name__ == "__main__":
    main()
