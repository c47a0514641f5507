"""A ProtoNet training epoch in PyTorch, the twin of `glassbox train protonet --epochs 1`.

Trains the network and loss of bench/protonet_step_torch.py (Li et al., AAAI 2018, as
models/protonet builds them) on Fashion-MNIST as examples/configs/protonet_fmnist.cfg does:
55,000 training images (5,000 of the 60,000 held out for validation, seeded), batch 250,
Adam lr 0.002, elastic deformation sigma 4 alpha 20 drawn afresh for every image in every
epoch; then evaluates the 10,000 test images forward only in batches of 1000 (glassbox's
kEvalBatch, models/protonet/protonet_task.cpp), encoder + distances + logits as glassbox's
evaluation does (no decoder), under torch.no_grad().

Data path: a map-style Dataset indexed by a *list* of sample ids (a DataLoader with
sampler=BatchSampler(RandomSampler), batch_size=None, num_workers=0), whose __getitem__
gathers the batch and deforms it vectorised (conv2d with a separable Gaussian kernel on the
batch of displacement fields, then grid_sample). This is the batch-transform pattern a
PyTorch user writes when per-sample transforms are too slow; num_workers=0 because
glassbox's DataLoader also prepares each batch synchronously in the training thread, with
the same --threads, and worker processes would take the 1-2 cores from the compute threads
and fall outside this process's max RSS.

Elastic deformation (trainers/data/elastic_deformation.cpp): for each image, dx, dy ~ U[-1, 1]
per pixel, each smoothed by a normalised Gaussian (sigma, taps out to ceil(4 sigma)) with
zeros beyond the border, and the output pixel (y, x) is the bilinear sample of the input at
(y + alpha dy, x + alpha dx) in pixel units, each of the 4 corners outside the image
counting as 0. grid_sample(align_corners=True, padding_mode="zeros") maps normalised -1/+1
to the centres of pixels 0 and W-1, i.e. x_pix = (g + 1) (W - 1) / 2, and zeroes
out-of-image corners one by one, which is that rule. --check-elastic compares this with a
literal port of the C++ loop on the same fields.

Usage: /usr/bin/python3 bench/protonet_epoch_torch.py [--threads T] [--epochs N] [--train-subset N]
                                                     [--data-dir DIR] [--seed S] [--test-every N]
                                                     [--check-elastic]
Prints one JSON line: {"framework", "threads", "epochs", "train_images", "epoch_s", "epoch_s_all",
"eval_images", "eval_s", "eval_images_per_s", "test_accuracy", "max_rss_mb"}.
epoch_s is the mean over the --epochs timed epochs of the wall time of the batch loop (batch
gather + deformation + forward + loss + backward + Adam step + loss.item()), as glassbox's
progress bar times an epoch; the validation pass after the epoch is not in it. max_rss_mb is
ru_maxrss of this process at the end (after training and evaluation).
"""
import argparse
import ctypes
import json
import math
import os
import resource
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from protonet_step_torch import ProtoNet, protonet_loss, read_idx, same_pad  # noqa: E402  (the identical network)

FMNIST = "/usr/share/datasets/fashion-mnist"


def cap_openblas_threads(threads):
    """Debian's torch does its GEMMs in OpenBLAS (libblas.so.3 -> openblas-pthread), whose own
    pthreads torch.set_num_threads does not limit; cap them as glassbox's --threads does
    (kernels::set_cpu_threads). Returns OpenBLAS's thread count, or None where it is not loaded."""
    with open("/proc/self/maps") as f:
        paths = {line.split()[-1] for line in f if "libopenblas" in line and "/" in line}
    for path in sorted(paths):
        try:
            lib = ctypes.CDLL(path)
            lib.openblas_set_num_threads(threads)
            return int(lib.openblas_get_num_threads())
        except (OSError, AttributeError):
            continue
    return None


def load_split(data_dir, prefix):
    """Images [N, 1, 28, 28] in [0, 1] (pixel / 255, as glassbox) and int64 labels of `prefix` (train or t10k)."""
    raw = read_idx(data_dir, prefix + "-images-idx3-ubyte")
    n, h, w = (int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(3))
    images = np.frombuffer(raw, np.uint8, offset=16).reshape(n, 1, h, w)
    labels = np.frombuffer(read_idx(data_dir, prefix + "-labels-idx1-ubyte"), np.uint8, offset=8)
    return torch.from_numpy(images.astype(np.float32) / 255.0), torch.from_numpy(labels.astype(np.int64))


def protonet_logits(net, x):
    """ProtoNet.forward's logits without the decoder: what glassbox's evaluation computes
    (model.forward(x, /*reconstruct=*/false))."""
    h = x
    for i, conv in enumerate(net.enc):
        top, bottom = same_pad(net.sizes[i])
        h = torch.sigmoid(conv(F.pad(h, (top, bottom, top, bottom))))
    z = h.flatten(1)
    d = (z.pow(2).sum(1, keepdim=True) + net.prototypes.pow(2).sum(1) - 2 * z @ net.prototypes.t()).clamp_min(0)
    return d @ net.class_weights


class ElasticDeformation:
    """Simard et al. (2003) elastic deformation of a batch [B, C, H, W], as glassbox's
    elastic_deform (trainers/data/elastic_deformation.cpp) computes it, vectorised."""

    def __init__(self, alpha, sigma, h, w, generator=None):
        self.alpha, self.h, self.w, self.generator = alpha, h, w, generator
        radius = math.ceil(4.0 * sigma)
        k = torch.arange(-radius, radius + 1, dtype=torch.float64)
        taps = torch.exp(-0.5 * k * k / (sigma * sigma))
        taps = (taps / taps.sum()).float()
        self.radius = radius
        self.kx = taps.view(1, 1, 1, -1)  # along x (width)
        self.ky = taps.view(1, 1, -1, 1)  # along y (height)
        ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32),
                                indexing="ij")
        self.ys, self.xs = ys, xs

    def fields(self, batch):
        """Uniform [-1, 1) displacement fields [B, 2, H, W] (channel 0: dx, 1: dy)."""
        return torch.rand(batch, 2, self.h, self.w, generator=self.generator) * 2 - 1

    def smooth(self, fields):
        """Separable Gaussian smoothing of [B, 2, H, W] with zeros beyond the border."""
        b = fields.shape[0]
        f = fields.reshape(b * 2, 1, self.h, self.w)
        f = F.conv2d(f, self.kx, padding=(0, self.radius))
        f = F.conv2d(f, self.ky, padding=(self.radius, 0))
        return f.reshape(b, 2, self.h, self.w)

    def apply(self, images, fields):
        """Bilinear sample of images at (y + alpha dy, x + alpha dx), zeros outside."""
        d = self.smooth(fields)
        sx = self.xs + self.alpha * d[:, 0]
        sy = self.ys + self.alpha * d[:, 1]
        # align_corners=True: pixel p <-> 2 p / (size - 1) - 1.
        grid = torch.stack((sx * (2.0 / (self.w - 1)) - 1.0, sy * (2.0 / (self.h - 1)) - 1.0), dim=-1)
        return F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=True)

    def __call__(self, images):
        return self.apply(images, self.fields(images.shape[0]))


def elastic_reference(image, dx, dy, alpha, sigma):
    """A literal port of glassbox's elastic_deform for one [H, W] plane (float64 loops), for --check-elastic."""
    h, w = image.shape
    radius = math.ceil(4.0 * sigma)
    taps = [math.exp(-0.5 * k * k / (sigma * sigma)) for k in range(-radius, radius + 1)]
    total = sum(taps)
    taps = [t / total for t in taps]

    def smooth(field):
        tmp = np.zeros((h, w))
        for y in range(h):
            for x in range(w):
                tmp[y, x] = sum(taps[k + radius] * field[y, x + k]
                                for k in range(max(-radius, -x), min(radius, w - 1 - x) + 1))
        out = np.zeros((h, w))
        for y in range(h):
            for k in range(max(-radius, -y), min(radius, h - 1 - y) + 1):
                out[y] += taps[k + radius] * tmp[y + k]
        return out

    dx, dy = smooth(dx), smooth(dy)

    def at(yy, xx):
        return 0.0 if yy < 0 or xx < 0 or yy >= h or xx >= w else float(image[int(yy), int(xx)])

    out = np.zeros((h, w))
    for y in range(h):
        for x in range(w):
            sy, sx = y + alpha * dy[y, x], x + alpha * dx[y, x]
            y0, x0 = math.floor(sy), math.floor(sx)
            fy, fx = sy - y0, sx - x0
            top = at(y0, x0) * (1 - fx) + at(y0, x0 + 1) * fx
            bottom = at(y0 + 1, x0) * (1 - fx) + at(y0 + 1, x0 + 1) * fx
            out[y, x] = top * (1 - fy) + bottom * fy
    return out


def check_elastic(images, alpha, sigma):
    """Max |torch - reference| over a few images and parameter settings; raises if not ~float rounding."""
    worst = 0.0
    for a, s in ((alpha, sigma), (5.0, 1.0), (34.0, 4.0), (1.0, 0.5)):
        deform = ElasticDeformation(a, s, images.shape[2], images.shape[3], torch.Generator().manual_seed(1))
        x = images[:3]
        fields = deform.fields(x.shape[0])
        got = deform.apply(x, fields)
        for i in range(x.shape[0]):
            ref = elastic_reference(x[i, 0].double().numpy(), fields[i, 0].double().numpy(),
                                    fields[i, 1].double().numpy(), a, s)
            err = float(np.abs(got[i, 0].double().numpy() - ref).max())
            worst = max(worst, err)
            print(f"check-elastic: alpha {a} sigma {s} image {i}: max |torch - glassbox port| = {err:.2e}, "
                  f"changed pixels vs input: {float((got[i, 0] - x[i, 0]).abs().max()):.3f}", file=sys.stderr)
    if worst > 1e-4:
        raise SystemExit(f"check-elastic: FAILED, max error {worst:.2e}")
    print(f"check-elastic: OK, max error {worst:.2e}", file=sys.stderr)


class DeformedBatches(torch.utils.data.Dataset):
    """Training images indexed by a list of ids (one batch); deformed per batch, vectorised."""

    def __init__(self, images, labels, deform):
        self.images, self.labels, self.deform = images, labels, deform

    def __len__(self):
        return self.images.shape[0]

    def __getitem__(self, ids):
        ids = torch.as_tensor(ids)
        x = self.images.index_select(0, ids)
        if self.deform is not None:
            x = self.deform(x)
        return x, self.labels.index_select(0, ids)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--epochs", type=int, default=1, help="timed epochs (epoch_s is their mean)")
    p.add_argument("--train-subset", type=int, default=0, help="train on the first N training images only (0: all)")
    p.add_argument("--batch", type=int, default=250)
    p.add_argument("--validation-size", type=int, default=5000)
    p.add_argument("--eval-batch", type=int, default=1000)
    p.add_argument("--test-every", type=int, default=0,
                   help="also score the test set every N epochs (0: only at the end), as glassbox eval --checkpoint")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--alpha", type=float, default=20.0)
    p.add_argument("--sigma", type=float, default=4.0)
    p.add_argument("--no-elastic", action="store_true")
    p.add_argument("--data-dir", default=FMNIST, help="Fashion-MNIST's IDX files, raw or .gz")
    p.add_argument("--check-elastic", action="store_true",
                   help="compare the deformation with a port of glassbox's C++ loop, then exit")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    openblas_threads = cap_openblas_threads(args.threads)
    torch.manual_seed(args.seed)

    images, labels = load_split(args.data_dir, "train")
    if args.check_elastic:
        check_elastic(images[:8], args.alpha, args.sigma)
        return
    test_images, test_labels = load_split(args.data_dir, "t10k")
    # Hold out validation_size images, seeded, as glassbox's train_validation_split does.
    order = torch.randperm(images.shape[0], generator=torch.Generator().manual_seed(args.seed))
    train_ids, val_ids = order[args.validation_size:], order[:args.validation_size]
    if 0 < args.train_subset < train_ids.numel():
        train_ids = train_ids[:args.train_subset]
    train_x, train_y = images[train_ids].contiguous(), labels[train_ids].contiguous()
    val_x, val_y = images[val_ids].contiguous(), labels[val_ids].contiguous()
    del images, labels

    deform = None if args.no_elastic else ElasticDeformation(args.alpha, args.sigma, 28, 28)
    dataset = DeformedBatches(train_x, train_y, deform)
    sampler = torch.utils.data.BatchSampler(torch.utils.data.RandomSampler(dataset), args.batch, drop_last=False)
    loader = torch.utils.data.DataLoader(dataset, sampler=sampler, batch_size=None, num_workers=0)

    net = ProtoNet()
    with torch.no_grad():  # the eval path must be ProtoNet.forward's logits
        probe = test_images[:4]
        assert torch.allclose(protonet_logits(net, probe), net(probe)[0]), "protonet_logits drifted from ProtoNet"
    opt = torch.optim.Adam(net.parameters(), lr=0.002)

    def accuracy(x_all, y_all):
        net.eval()
        correct = 0
        with torch.no_grad():
            for start in range(0, x_all.shape[0], args.eval_batch):
                x, y = x_all[start:start + args.eval_batch], y_all[start:start + args.eval_batch]
                correct += int((protonet_logits(net, x).argmax(1) == y).sum())
        net.train()
        return correct / max(x_all.shape[0], 1)

    epoch_s = []
    for epoch in range(args.epochs):
        net.train()
        loss_sum, steps = 0.0, 0
        t0 = time.perf_counter()
        for x, y in loader:
            logits, d, r = net(x)
            loss = protonet_loss(logits, d, r, x, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            loss_sum += loss.item()
            steps += 1
        epoch_s.append(time.perf_counter() - t0)
        val = accuracy(val_x, val_y) if val_x.shape[0] else float("nan")
        test = ""
        if args.test_every > 0 and (epoch + 1) % args.test_every == 0:
            test = f", test accuracy {100 * accuracy(test_images, test_labels):.2f}%"
        print(f"epoch {epoch + 1}/{args.epochs}: {steps} steps in {epoch_s[-1]:.2f} s, train loss "
              f"{loss_sum / max(steps, 1):.4f}, validation accuracy {100 * val:.2f}%{test}", file=sys.stderr,
              flush=True)

    t0 = time.perf_counter()
    test_acc = accuracy(test_images, test_labels)
    eval_s = time.perf_counter() - t0
    max_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux
    print(json.dumps({"model": "protonet", "framework": "pytorch " + torch.__version__, "threads": args.threads,
                      "openblas_threads": openblas_threads, "epochs": args.epochs, "train_images": int(train_x.shape[0]), "batch": args.batch,
                      "elastic": deform is not None,
                      "epoch_s": sum(epoch_s) / len(epoch_s), "epoch_s_all": epoch_s,
                      "eval_images": int(test_images.shape[0]), "eval_batch": args.eval_batch, "eval_s": eval_s,
                      "eval_images_per_s": test_images.shape[0] / eval_s, "test_accuracy": test_acc,
                      "max_rss_mb": max_rss_mb}))


if __name__ == "__main__":
    main()
