"""The Prob-PSENN training step in PyTorch, the twin of `glassbox bench prob_psenn`.

Builds the network and loss of Vadillo, Santana & Lozano (Prob-PSENN) as models/prob_psenn does
with its default settings: images mapped to 2x - 1 and resized bilinearly to 32 x 32; a VAE
encoder of three 4x4 stride-2 convolutions (32, 32, 64 channels), a 4x4 valid convolution to 256
and a 1x1 convolution to [mu, log sigma^2] of a 40-d latent, each hidden layer followed by batch
norm (eps 1e-3, momentum 0.01) and LeakyReLU(0.2); the mirrored decoder with tanh; one Gaussian
prototype N(mu_j, L_j L_j^T) per class (L lower triangular, softplus(raw) + 1e-5 on its
diagonal); S = 10 prototype sets p = mu + L eps per step; logits D W with W = -0.5 I (trained);
loss NLL + 10 MSE + 0.05 clip(-log q_y(z), -1, 1e4) + 0.05 KL; Adam, lr 0.001. Times forward +
loss + backward + Adam step on Fashion-MNIST batches of 250, as `glassbox bench prob_psenn` does
with its default config.

Usage: /usr/bin/python3 bench/prob_psenn_step_torch.py [--device cpu|cuda] [--threads T] [--steps N]
                                                      [--batch B] [--data-dir DIR]
Prints one JSON line like glassbox's: {"model", "device", "threads", "batch", "median_ms", "p10_ms", "p90_ms"}.

With --check RUN (a probabilistic, full-covariance run with the default sizes; --data-dir the folder
of the run's data set) it instead loads the run's latest checkpoint into this network and prints
the test accuracy of the prototype modes (z the encoder's mean, p_j = mu_j), which
`glassbox eval RUN --json` reports as accuracy_modes_only: the two agree when the twin computes
glassbox's function.
"""
import json
import math

import torch
import torch.nn.functional as F

from _safetensors import load_f32
from protonet_step_torch import labelled_twin_main, load_images

MIN_SCALE = 1e-5


def norm_act(channels):
    return [torch.nn.BatchNorm2d(channels, eps=1e-3, momentum=0.01), torch.nn.LeakyReLU(0.2)]


class ProbPsenn(torch.nn.Module):
    def __init__(self, b=32, bottleneck=256, d=40, classes=10):
        super().__init__()
        self.d = d
        # The layer order (and so the parameter names) of models/prob_psenn's Sequentials.
        self.encoder = torch.nn.Sequential(
            torch.nn.Conv2d(1, b, 4, 2, 1), *norm_act(b),
            torch.nn.Conv2d(b, b, 4, 2, 1), *norm_act(b),
            torch.nn.Conv2d(b, 2 * b, 4, 2, 1), *norm_act(2 * b),
            torch.nn.Conv2d(2 * b, bottleneck, 4), *norm_act(bottleneck),
            torch.nn.Conv2d(bottleneck, 2 * d, 1))
        self.decoder = torch.nn.Sequential(
            torch.nn.Conv2d(d, bottleneck, 1), *norm_act(bottleneck),
            torch.nn.ConvTranspose2d(bottleneck, 2 * b, 4), *norm_act(2 * b),
            torch.nn.ConvTranspose2d(2 * b, b, 4, 2, 1), *norm_act(b),
            torch.nn.ConvTranspose2d(b, b, 4, 2, 1), *norm_act(b),
            torch.nn.ConvTranspose2d(b, 1, 4, 2, 1), torch.nn.Tanh())
        for m in self.modules():
            if isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d)):
                torch.nn.init.xavier_uniform_(m.weight)
                torch.nn.init.zeros_(m.bias)
        self.prototype_means = torch.nn.Parameter(torch.randn(classes, d))
        self.prototype_scale_raw = torch.nn.Parameter(torch.randn(classes, d, d) * 0.1 + 0.2)
        self.class_weights = torch.nn.Parameter(-0.5 * torch.eye(classes))

    def scale_tril(self):
        raw = self.prototype_scale_raw
        eye = torch.eye(self.d, dtype=raw.dtype, device=raw.device)
        return torch.tril(raw, -1) + eye * (F.softplus(raw) + MIN_SCALE)

    def forward(self, images, samples):
        x = F.interpolate(images * 2 - 1, size=(32, 32), mode="bilinear", align_corners=False)
        h = self.encoder(x).flatten(1)
        mu, logvar = h[:, :self.d], h[:, self.d:]
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu) if self.training else mu
        if samples > 0:
            eps = torch.randn(samples, *self.prototype_means.shape, device=mu.device)
            prototypes = self.prototype_means + (self.scale_tril() @ eps.unsqueeze(-1)).squeeze(-1)
        else:
            prototypes = self.prototype_means.unsqueeze(0)
        zz = z.unsqueeze(0)  # [1, B, d] against [S, K, d]
        distances = ((zz.pow(2).sum(-1, keepdim=True) + prototypes.pow(2).sum(-1).unsqueeze(1)
                      - 2 * zz @ prototypes.transpose(1, 2)).clamp_min(0))
        logits = distances @ self.class_weights
        return x, z, mu, logvar, logits

    def loss(self, images, labels, samples):
        x, z, mu, logvar, logits = self(images, samples)
        s, b, k = logits.shape
        nll = F.cross_entropy(logits.reshape(s * b, k), labels.repeat(s))
        rec = F.mse_loss(self.decoder(z.reshape(b, self.d, 1, 1)), x)
        scale = self.scale_tril()[labels]
        u = torch.linalg.solve_triangular(scale, (z - self.prototype_means[labels]).unsqueeze(-1), upper=False)
        neg_log_density = (0.5 * u.squeeze(-1).pow(2).sum(1) + torch.log(torch.diagonal(scale, dim1=1, dim2=2)).sum(1)
                           + self.d * 0.5 * math.log(2 * math.pi))
        r2 = neg_log_density.clamp(-1, 1e4).mean()
        kl = (-0.5 * (1 + logvar - mu.pow(2) - logvar.exp())).sum(1).mean()
        return nll + 10 * rec + 0.05 * r2 + 0.05 * kl


@torch.no_grad()
def check_against_run(run, data_dir):
    """The twin's test accuracy with the prototype modes, with the run's weights."""
    weights = {name[len("model."):]: torch.from_numpy(value.copy())
               for name, value in load_f32(f"{run}/checkpoints/latest.safetensors").items() if name.startswith("model.")}
    model = ProbPsenn()
    missing, unexpected = model.load_state_dict(weights, strict=False)
    if unexpected or any(not name.endswith("num_batches_tracked") for name in missing):
        raise SystemExit(f"{run}: checkpoint does not fit the twin (missing {missing}, unexpected {unexpected})")
    model.eval()
    x, labels = load_images(None, data_dir, "t10k")
    predicted = torch.cat([model(chunk, 0)[-1][0].argmax(1) for chunk in x.split(1000)])
    print(json.dumps({"accuracy_modes_only": (predicted == labels).double().mean().item(), "samples": len(labels)}))


def main():
    def make_step(batches, device):
        model = ProbPsenn().to(device)
        opt = torch.optim.Adam(model.parameters(), lr=0.001)

        def step(i):
            x, y = batches[i % len(batches)]
            loss = model.loss(x, y, samples=10)
            opt.zero_grad()
            loss.backward()
            opt.step()
        return step

    labelled_twin_main(__doc__.split("\n")[0], "prob_psenn", check_against_run, make_step)


if __name__ == "__main__":
    main()
