"""PyTorch twin of bench/autograd_overhead_bench.cpp: a chain of 1000 tiny ops
(alternating add and mul on 4-element f32 tensors), forward then backward; prints
microseconds per op (forward and backward together).

    /usr/bin/python3 bench/autograd_overhead_torch.py
"""
import time

import torch

CHAIN_LENGTH = 1000
REPEATS = 200


def chain(x, c):
    y = x
    for i in range(CHAIN_LENGTH):
        y = y + c if i % 2 == 0 else y * c
    y.sum().backward()
    x.grad = None


def main():
    torch.set_num_threads(1)
    x = torch.full((4,), 0.5, dtype=torch.float32, requires_grad=True)
    c = torch.full((4,), 1.0001, dtype=torch.float32)
    for _ in range(10):
        chain(x, c)
    # Wall and CPU time, as Google Benchmark reports for the C++ twin (CPU time is the
    # steadier one on a machine shared with other jobs).
    best_wall = best_cpu = float("inf")
    for _ in range(5):
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(REPEATS):
            chain(x, c)
        best_wall = min(best_wall, (time.perf_counter() - wall) / REPEATS)
        best_cpu = min(best_cpu, (time.process_time() - cpu) / REPEATS)
    per_op = 1e6 / CHAIN_LENGTH
    print(f"torch {torch.__version__}: {best_wall * per_op:.3f} us/op wall, {best_cpu * per_op:.3f} us/op CPU "
          f"(chain of {CHAIN_LENGTH} add/mul ops on 4 floats, forward + backward, best of 5)")


if __name__ == "__main__":
    main()
