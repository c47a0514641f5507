"""The MLP training step in PyTorch, the twin of bench/mlp_step_bench.cpp.

A 784-1024-1024-10 MLP with ReLU, cross-entropy and Adam (lr 1e-3) on a batch of 512
random inputs drawn once: times forward + loss + backward + Adam step.

Usage: python3 bench/mlp_step_torch.py [--device cpu|cuda] [--threads T] [--steps N] [--batch B]
Prints one JSON line: {"model": "mlp", "device", "threads", "batch", "median_ms", "p10_ms", "p90_ms"}.
"""
import argparse
import json
import time

import torch
import torch.nn.functional as F


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
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    times = []
    warmup = 3
    for step in range(warmup + args.steps):
        sync()
        t0 = time.perf_counter()
        loss = F.cross_entropy(net(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sync()
        if step >= warmup:
            times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    pct = lambda q: times[int(q * (len(times) - 1) + 0.5)]
    print(json.dumps({"model": "mlp", "framework": "pytorch " + torch.__version__, "device": str(device),
                      "threads": args.threads, "batch": args.batch, "median_ms": pct(0.5), "p10_ms": pct(0.1),
                      "p90_ms": pct(0.9)}))


if __name__ == "__main__":
    main()
