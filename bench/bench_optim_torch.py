"""torch.optim reference timings for bench/bench_optim.cpp (same sizes and options).

Run: /usr/bin/python3 bench/bench_optim_torch.py   (set OMP_NUM_THREADS / torch threads to match)
"""
import time

import torch


def values(n, scale):
    i = torch.arange(n, dtype=torch.int64)
    return scale * (((i * 2654435761) % (1 << 32) % 1000).float() / 500.0 - 1.0)


def bench(name, n, make):
    p = values(n, 1.0).requires_grad_()
    p.grad = values(n, 0.01)
    opt = make([p])
    for _ in range(10):
        opt.step()
    reps, start = 0, time.perf_counter()
    while time.perf_counter() - start < 1.0:
        opt.step()
        reps += 1
    us = (time.perf_counter() - start) / reps * 1e6
    print(f"{name}/{n}: {us:.1f} us/step, {n / us * 1e-3:.2f} G items/s")


with torch.no_grad():
    for n in (1 << 20, 1 << 14):
        bench("sgd_momentum", n, lambda ps: torch.optim.SGD(ps, lr=0.01, momentum=0.9, weight_decay=1e-4))
        bench("adam", n, lambda ps: torch.optim.Adam(ps, lr=1e-3, weight_decay=1e-4))
    bench("adamw", 1 << 20, lambda ps: torch.optim.AdamW(ps, lr=1e-3))
    bench("adadelta", 1 << 20, lambda ps: torch.optim.Adadelta(ps))
