"""The TELL training step in PyTorch, the twin of `glassbox bench tell`.

Builds the network and loss of Peng et al. (JMLR 2022) as models/tell does: the convolutional
autoencoder with a 10-d unit-sphere latent, the bias-free cluster layer W = 2 alpha Omega,
L = MSE + (lambda / alpha) mean(2 alpha - delta * c), Adadelta (lr 1, rho 0.9, eps 1e-6), the
centre gradients rescaled to 10% of the rows' length on even steps (zeroed on odd ones, where the
encoder is pulled to its centre instead) and the rows projected back to length 2 alpha after each
step. delta is one-hot(argmax c) built in one call (the authors' script fills it row by row in a
Python loop, which would only slow PyTorch down). Times forward + loss + backward + Adadelta step
on Fashion-MNIST batches of 250, as `glassbox bench tell` does with its default config (the
paper's batch is 256).

Usage: /usr/bin/python3 bench/tell_step_torch.py [--device cpu|cuda] [--threads T] [--steps N] [--batch B]
                                                [--data-dir DIR]
Prints one JSON line like glassbox's: {"model", "device", "threads", "batch", "median_ms", "p10_ms", "p90_ms"}.
"""

import torch
import torch.nn.functional as F

from _torch_timing import print_timing, step_arguments, time_steps
from protonet_step_torch import FMNIST, load_images

ALPHA = 0.001
LAMBDA = 0.01
GRAD_FRACTION = 0.1


def bn_relu(channels):
    return [torch.nn.BatchNorm2d(channels), torch.nn.ReLU()]


class Tell(torch.nn.Module):
    def __init__(self, hidden=256, latent=10, clusters=10):
        super().__init__()
        inner = 16 * 7 * 7
        self.encoder = torch.nn.Sequential(
            torch.nn.Conv2d(1, 16, 3, 1, 1), *bn_relu(16),
            torch.nn.Conv2d(16, 32, 3, 2, 1), *bn_relu(32),
            torch.nn.Conv2d(32, 32, 3, 1, 1), *bn_relu(32),
            torch.nn.Conv2d(32, 16, 3, 2, 1), *bn_relu(16),
            torch.nn.Flatten(), torch.nn.Linear(inner, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, latent))
        self.decoder = torch.nn.Sequential(
            torch.nn.Linear(latent, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, inner),
            torch.nn.Unflatten(1, (16, 7, 7)),
            torch.nn.ConvTranspose2d(16, 32, 3, 2, 1, output_padding=1), *bn_relu(32),
            torch.nn.ConvTranspose2d(32, 32, 3, 1, 1), *bn_relu(32),
            torch.nn.ConvTranspose2d(32, 16, 3, 2, 1, output_padding=1), *bn_relu(16),
            torch.nn.ConvTranspose2d(16, 1, 3, 1, 1), torch.nn.Sigmoid())
        self.cluster = torch.nn.Linear(latent, clusters, bias=False)
        self.project_centres()

    @torch.no_grad()
    def project_centres(self):
        self.cluster.weight.copy_(F.normalize(self.cluster.weight, dim=1) * 2 * ALPHA)

    def loss(self, x, centres_move):
        z = F.normalize(self.encoder(x), dim=1)
        c = self.cluster(z.detach() if centres_move else z)
        delta = F.one_hot(c.detach().argmax(1), c.shape[1]).to(c.dtype)
        clu = (LAMBDA / ALPHA) * (2 * ALPHA - delta * c).mean()
        return F.mse_loss(self.decoder(z), x) + clu


def main():
    p = step_arguments(__doc__.split("\n")[0])
    p.add_argument("--data-dir", default=FMNIST)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    device = torch.device(a.device)
    images, _ = load_images(a.batch * 8, a.data_dir)
    batches = [b.to(device) for b in images.split(a.batch)]
    model = Tell().to(device)
    opt = torch.optim.Adadelta(model.parameters(), lr=1.0, rho=0.9, eps=1e-6)
    centre_grad_length = GRAD_FRACTION * 2 * ALPHA

    def step(i):
        centres_move = i % 2 == 0  # both halves of the alternation, as glassbox's bench
        loss = model.loss(batches[i % len(batches)], centres_move)
        opt.zero_grad()
        loss.backward()
        w = model.cluster.weight
        w.grad = F.normalize(w.grad, dim=1) * centre_grad_length if centres_move else torch.zeros_like(w)
        opt.step()
        model.project_centres()

    timing = time_steps(step, a.steps, device)
    print_timing("tell", device, a, timing)


if __name__ == "__main__":
    main()
