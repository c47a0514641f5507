"""The robust stable CBC training step in PyTorch, the twin of `glassbox bench cbc`.

Builds the shallow network of Saralajew et al. (AAAI 2025) as models/cbc does with its default
settings: K = 20 components in input space (U[0.45, 0.55], clamped to [0, 1] after every step),
Euclidean distances sqrt(|x - w|^2 + 1e-7), detections exp(-d / (|sigma| + 1e-7)) with sigma = 58,
stable CBC reasoning softmax(theta) over 2K rows with 2 concepts per class, class scores the max
over each class's concepts, and the robust loss mean(relu(1.58 - r)) where r is the certified L2
radius (sigma_min times the min over wrong concepts of the max over right ones of ln t*). Adam,
lr 0.005. Times forward + loss + backward + Adam step + projection on Fashion-MNIST batches of
250, as `glassbox bench cbc` does with its default config.

Usage: /usr/bin/python3 bench/cbc_step_torch.py [--device cpu|cuda] [--threads T] [--steps N] [--batch B]
                                               [--data-dir DIR]
Prints one JSON line like glassbox's: {"model", "device", "threads", "batch", "median_ms", "p10_ms", "p90_ms"}.

With --check RUN (a robust_stable_cbc run on Fashion-MNIST with the default sizes) it instead loads
the run's latest checkpoint into this network and prints the clean test accuracy and the mean
certified radius of the correctly classified test images, which `glassbox eval RUN --json` reports
as clean_accuracy and mean_correct_radius: the two agree when the twin computes glassbox's function.
"""
import json

import torch

from _safetensors import load_f32
from protonet_step_torch import labelled_twin_main, load_images

DISTANCE_EPS = 1e-7
SIGMA_EPS = 1e-7
CERT_EPS = 1e-8
MASK = 1e30


class RobustStableCbc(torch.nn.Module):
    def __init__(self, dim=784, k=20, classes=10, per_class=2, sigma=58.0):
        super().__init__()
        concepts = classes * per_class
        self.per_class = per_class
        self.components = torch.nn.Parameter(torch.empty(k, dim).uniform_(0.45, 0.55))
        self.sigma = torch.nn.Parameter(torch.full((k,), sigma))
        r = torch.empty(k, concepts).uniform_(0.4, 0.6)
        prior = torch.softmax(torch.rand(k, concepts), 0)
        self.theta = torch.nn.Parameter(torch.log(torch.cat([prior * r, prior * (1 - r)], 0)))
        self.register_buffer("concept_class", torch.arange(concepts) // per_class)

    def reasoning(self):
        r = torch.softmax(self.theta, 0)
        k = r.shape[0] // 2
        return r[:k], r[k:]

    def forward(self, x):
        x = x.flatten(1)
        sq = (x.pow(2).sum(1, keepdim=True) + self.components.pow(2).sum(1) - 2 * x @ self.components.T).clamp_min(0)
        detections = torch.exp(-torch.sqrt(sq + DISTANCE_EPS) / (self.sigma.abs() + SIGMA_EPS))
        pos, neg = self.reasoning()
        concepts = detections @ (pos - neg) + neg.sum(0, keepdim=True)
        scores = concepts.reshape(x.shape[0], -1, self.per_class).amax(2)
        return detections, scores

    def certified_radius(self, detections, labels):
        pos_r, neg_r = self.reasoning()
        pos, neg = detections @ pos_r, detections @ neg_r
        bias = neg_r.sum(0)
        alpha = (neg.unsqueeze(2) + pos.unsqueeze(1)).clamp_min(CERT_EPS)
        beta = pos.unsqueeze(2) + neg.unsqueeze(1)
        gamma = bias.unsqueeze(1) - bias.unsqueeze(0)
        root = torch.sqrt((gamma.pow(2) + 4 * alpha * beta).clamp_min(CERT_EPS))
        log_t = torch.log(((gamma + root) / (2 * alpha)).clamp_min(CERT_EPS))
        right = self.concept_class.unsqueeze(0) == labels.unsqueeze(1)
        over_right = log_t.masked_fill(~right.unsqueeze(2), -MASK).amax(1)
        margin = over_right.masked_fill(right, MASK).amin(1)
        return (self.sigma.abs() + SIGMA_EPS).amin() * margin

    def loss(self, detections, labels, robust_margin=1.58):
        return torch.relu(robust_margin - self.certified_radius(detections, labels)).mean()


@torch.no_grad()
def check_against_run(run, data_dir):
    """The twin's clean accuracy and mean certified radius (correct images) with the run's weights."""
    weights = load_f32(f"{run}/checkpoints/latest.safetensors")
    model = RobustStableCbc()
    model.components.copy_(torch.from_numpy(weights["model.components"].copy()))
    model.sigma.copy_(torch.from_numpy(weights["model.sigma"].copy()))
    model.theta.copy_(torch.from_numpy(weights["model.reasoning_logits"].copy()))
    x, labels = load_images(None, data_dir, "t10k")
    detections, scores = model(x)
    radius = model.certified_radius(detections, labels)
    correct = scores.argmax(1) == labels
    print(json.dumps({"clean_accuracy": correct.double().mean().item(),
                      "mean_correct_radius": radius[correct].double().mean().item(), "samples": len(labels)}))


def main():
    def make_step(batches, device):
        model = RobustStableCbc().to(device)
        opt = torch.optim.Adam(model.parameters(), lr=0.005)

        def step(i):
            x, y = batches[i % len(batches)]
            detections, _ = model(x)
            loss = model.loss(detections, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            with torch.no_grad():
                model.components.clamp_(0, 1)
        return step

    labelled_twin_main(__doc__.split("\n")[0], "cbc", check_against_run, make_step)


if __name__ == "__main__":
    main()
