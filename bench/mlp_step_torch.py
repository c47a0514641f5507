"""The MLP training step in PyTorch, the twin of bench/mlp_step_bench.cpp.

A 784-1024-1024-10 MLP with ReLU, cross-entropy and Adam (lr 1e-3) on a batch of 512
random inputs drawn once: times forward + loss + backward + Adam step.

Usage: python3 bench/mlp_step_torch.py [--device cpu|cuda] [--threads T] [--steps N] [--batch B]
Prints one JSON line: {"model": "mlp", "device", "threads", "batch", "median_ms", "p10_ms", "p90_ms"}.
"""
import argparse
import json

import torch
import torch.nn.functional as F

from _torch_timing import time_steps


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    p.add_argument("--threads", type=int, default=1, help="CPU threads")
    p.add_argument("--steps", type=int, default=50)
    p.add_argument("--batch", type=int, default=512)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    device = torch.device(args.device)
    net = torch.nn.Sequential(torch.nn.Linear(784, 1024), torch.nn.ReLU(), torch.nn.Linear(1024, 1024),
                              torch.nn.ReLU(), torch.nn.Linear(1024, 10)).to(device)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    x = torch.randn(args.batch, 784).to(device)
    y = torch.randint(0, 10, (args.batch,)).to(device)

    def step(_):
        loss = F.cross_entropy(net(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    timing = time_steps(step, args.steps, device)
    print(json.dumps({"model": "mlp", "framework": "pytorch " + torch.__version__, "device": str(device),
                      "threads": args.threads, "batch": args.batch, **timing}))


if __name__ == "__main__":
    main()
