"""The ProtoNet training step in PyTorch, the twin of `glassbox bench protonet`.

Builds the network and loss of Li et al. (AAAI 2018) exactly as models/protonet does
(4 conv 3x3 stride 2 TF-SAME + sigmoid, 15 prototypes in the 40-d latent space,
logits = D W, transposed-conv decoder or with --decoder upsample nearest upsampling + conv,
loss 20 CE + R + R1 + R2, Adam lr 0.002) and times forward + loss + backward + Adam step on
Fashion-MNIST batches of 250.

Usage: /usr/bin/python3 bench/protonet_step_torch.py [--device cpu|cuda] [--threads T] [--steps N] [--batch B]
                                                    [--data-dir DIR] [--decoder deconv|upsample]
Prints one JSON line like glassbox's: {"model", "device", "threads", "batch", "decoder", "median_ms", "p10_ms",
"p90_ms"}.
--data-dir is a folder with Fashion-MNIST's train-*-idx*-ubyte files, raw or .gz (default: Debian's).
"""
import argparse
import gzip
import json
import os

import numpy as np
import torch
import torch.nn.functional as F

from _torch_timing import print_timing, step_arguments, time_steps

FMNIST = "/usr/share/datasets/fashion-mnist"


def read_idx(data_dir, name):
    """The bytes of IDX file `name` in data_dir, raw or .gz (as glassbox reads them)."""
    path = os.path.join(data_dir, name)
    if not os.path.exists(path) and os.path.exists(path + ".gz"):
        with gzip.open(path + ".gz") as f:
            return f.read()
    with open(path, "rb") as f:
        return f.read()


def load_images(n, data_dir=FMNIST, split="train"):
    """The first n images [n, 1, 28, 28] in [0, 1] and labels of the split ("train" or "t10k"; n None: all)."""
    images = np.frombuffer(read_idx(data_dir, f"{split}-images-idx3-ubyte"), np.uint8, offset=16).reshape(-1, 1, 28, 28)[:n]
    labels = np.frombuffer(read_idx(data_dir, f"{split}-labels-idx1-ubyte"), np.uint8, offset=8)[:n]
    return torch.from_numpy(images.astype(np.float32) / 255.0), torch.from_numpy(labels.astype(np.int64))


def labelled_batches(batch, data_dir, device, count=8):
    """The first count batches of the training set as (images, labels) pairs on device."""
    images, labels = load_images(batch * count, data_dir)
    return [(x.to(device), y.to(device)) for x, y in zip(images.split(batch), labels.split(batch))]


def labelled_twin_main(description, name, check_against_run, make_step):
    """main() of a classifier's twin: its flags, then with --check RUN check_against_run(RUN, data_dir),
    else the timing of make_step(batches, device), a step(i) over Fashion-MNIST batches, as one JSON line."""
    p = step_arguments(description)
    p.add_argument("--data-dir", default=FMNIST)
    p.add_argument("--check", metavar="RUN", help="compare with a glassbox run instead of timing")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    if a.check:
        return check_against_run(a.check, a.data_dir)
    torch.manual_seed(0)
    device = torch.device(a.device)
    step = make_step(labelled_batches(a.batch, a.data_dir, device), device)
    print_timing(name, device, a, time_steps(step, a.steps, device))


def protonet_loss(logits, d, r, x, y):
    """20 CE + R + R1 + R2 (Li et al. 2018 with the paper's weights), as glassbox's ProtoNet loss."""
    return (20 * F.cross_entropy(logits, y) + (r - x).pow(2).sum((1, 2, 3)).mean()
            + d.min(0).values.mean() + d.min(1).values.mean())


def same_pad(size, k=3, s=2):
    """TensorFlow SAME padding (before, after) for one spatial dim."""
    out = (size + s - 1) // s
    total = max((out - 1) * s + k - size, 0)
    return total // 2, total - total // 2


class ProtoNet(torch.nn.Module):
    def __init__(self, sizes=(28, 14, 7, 4, 2), hidden=32, latent=10, m=15, classes=10, decoder="deconv"):
        super().__init__()
        self.sizes, self.decoder = sizes, decoder
        chans = [1, hidden, hidden, hidden, latent]
        self.enc = torch.nn.ModuleList(torch.nn.Conv2d(chans[i], chans[i + 1], 3, 2) for i in range(4))
        if decoder == "upsample":  # nearest upsampling to the encoder's sizes, then a 3x3 convolution (padding 1)
            self.dec = torch.nn.ModuleList(torch.nn.Conv2d(chans[4 - i], chans[3 - i], 3, 1, 1) for i in range(4))
        else:  # unpadded; forward() crops each output as TensorFlow's conv2d_transpose "SAME" does
            self.dec = torch.nn.ModuleList(torch.nn.ConvTranspose2d(chans[4 - i], chans[3 - i], 3, 2) for i in range(4))
        for layer in list(self.enc) + list(self.dec):
            torch.nn.init.normal_(layer.weight, 0.0, 0.01)
            torch.nn.init.zeros_(layer.bias)
        self.prototypes = torch.nn.Parameter(torch.rand(m, latent * sizes[-1] ** 2))
        self.class_weights = torch.nn.Parameter(torch.rand(m, classes))

    def forward(self, x):
        h = x
        for i, conv in enumerate(self.enc):
            top, bottom = same_pad(self.sizes[i])
            h = torch.sigmoid(conv(F.pad(h, (top, bottom, top, bottom))))
        z = h.flatten(1)
        d = (z.pow(2).sum(1, keepdim=True) + self.prototypes.pow(2).sum(1) - 2 * z @ self.prototypes.t()).clamp_min(0)
        logits = d @ self.class_weights
        r = h
        for i, layer in enumerate(self.dec):
            size = self.sizes[3 - i]
            if self.decoder == "upsample":
                r = torch.sigmoid(layer(F.interpolate(r, size=(size, size), mode="nearest")))
            else:
                top, _ = same_pad(size)
                r = torch.sigmoid(layer(r)[:, :, top:top + size, top:top + size])
        return logits, d, r


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--steps", type=int, default=50)
    p.add_argument("--batch", type=int, default=250)
    p.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    p.add_argument("--data-dir", default=FMNIST, help="Fashion-MNIST's IDX files, raw or .gz")
    p.add_argument("--decoder", choices=("deconv", "upsample"), default="deconv",
                   help="as glassbox's protonet --decoder (upsample: nearest upsampling + 3x3 convolution)")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    device = torch.device(args.device)
    images, labels = load_images(args.batch * 8, args.data_dir)
    images, labels = images.to(device), labels.to(device)
    net = ProtoNet(decoder=args.decoder).to(device)
    opt = torch.optim.Adam(net.parameters(), lr=0.002)

    def step(i):
        b = i % 8
        x, y = images[b * args.batch:(b + 1) * args.batch], labels[b * args.batch:(b + 1) * args.batch]
        loss = protonet_loss(*net(x), x, y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    timing = time_steps(step, args.steps, device)
    print(json.dumps({"model": "protonet", "framework": "pytorch " + torch.__version__, "device": str(device),
                      "threads": args.threads, "batch": args.batch, "decoder": args.decoder, **timing}))


if __name__ == "__main__":
    main()
