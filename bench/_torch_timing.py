"""Shared by the PyTorch twins of glassbox's step benchmarks: times a training step the way
`glassbox bench` does (warm-up steps untimed, the device waited for around each step) and
reports the median and spread in glassbox's JSON field names."""
import argparse
import json
import time

import torch


def time_steps(step, steps, device, warmup=3):
    """Runs step(i) for warmup + steps iterations; returns {"median_ms", "p10_ms", "p90_ms"} of the timed ones."""
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    times = []
    for i in range(warmup + steps):
        sync()
        t0 = time.perf_counter()
        step(i)
        sync()
        if i >= warmup:
            times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    pct = lambda q: times[int(q * (len(times) - 1) + 0.5)]
    return {"median_ms": pct(0.5), "p10_ms": pct(0.1), "p90_ms": pct(0.9)}


def step_arguments(description, batch=250):
    """The flags every twin takes: --device, --threads, --steps, --batch (add the script's own)."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--steps", type=int, default=50)
    p.add_argument("--batch", type=int, default=batch)
    return p


def print_timing(model, device, args, timing):
    """One JSON line in glassbox bench's field names."""
    print(json.dumps({"model": model, "device": str(device), "threads": args.threads, "batch": args.batch, **timing}))
