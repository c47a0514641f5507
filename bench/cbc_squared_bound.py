#!/usr/bin/env python3
"""How far the paper's squared-distance conversion lets a robust RBF network's certificate go.

For each MNIST test image and a trained `robust_rbf` run with `squared = true`, prints: the
robustness value r = (sigma_min/2) ln(out_y / out_best_wrong) the model reaches, the r that
eps = 1.58 needs under the conversion eps = -sqrt(M)/3 + sqrt(M/9 + r/3) (M the largest squared
distance to a component), and an upper bound on r for ANY row-stochastic W given the learned
components and sigmas: (sigma_min/2) ln(max_k d_k / min_k d_k).
    /usr/bin/python3 bench/cbc_squared_bound.py RUN... (MNIST in ~/.cache/glassbox/mnist)
"""
import os, struct, sys

import numpy as np

from _safetensors import load_f32


def idx(path):
    d = open(path, 'rb').read(); nd = d[3]; dims = struct.unpack('>' + 'I' * nd, d[4:4 + 4 * nd])
    return np.frombuffer(d[4 + 4 * nd:], dtype=np.uint8).reshape(dims)
if len(sys.argv) < 2:
    sys.exit(__doc__)
MNIST = os.path.expanduser('~/.cache/glassbox/mnist/')
if not os.path.exists(MNIST + 't10k-images-idx3-ubyte'):
    sys.exit(MNIST + 't10k-images-idx3-ubyte: not found (get MNIST with `./run data mnist`)')
X = idx(MNIST + 't10k-images-idx3-ubyte').reshape(10000, -1).astype(np.float64) / 255
y = idx(MNIST + 't10k-labels-idx1-ubyte').astype(int)
for run in sys.argv[1:]:
    cfg = dict(l.split('=', 1) for l in open(run + '/config.cfg') if '=' in l and not l.startswith('#'))
    cfg = {k.strip(): v.strip() for k, v in cfg.items()}
    if cfg.get('variant') != 'robust_rbf' or cfg.get('squared') != 'true':
        print(run, ': not a robust_rbf run with squared = true, skipped'); continue
    m = load_f32(run + '/checkpoints/latest.safetensors')
    w = m['model.components'].astype(np.float64); s = np.abs(m['model.sigma'].astype(np.float64))
    W = m['model.weights'].astype(np.float64); W = np.exp(W - W.max(1, keepdims=True)); W /= W.sum(1, keepdims=True)
    d = np.maximum((X ** 2).sum(1)[:, None] + (w ** 2).sum(1)[None] - 2 * X @ w.T, 0)
    det = np.exp(-d / s); out = det @ W.T
    smin = s.min(); M = d.max(1)
    oy = out[np.arange(10000), y]; o2 = out.copy(); o2[np.arange(10000), y] = -1; oc = o2.max(1)
    r = smin / 2 * np.log(oy / oc)
    rmax = smin / 2 * np.log(det.max(1) / det.min(1))  # any row-stochastic W
    conv = lambda r: np.where(r > 0, -np.sqrt(M) / 3 + np.sqrt(M / 9 + np.maximum(r, 0) / 3), r)
    need = 3 * 1.58 ** 2 + 2 * 1.58 * np.sqrt(M)
    ok = oy > oc
    print(run, f"acc {ok.mean():.4f}  median M {np.median(M):.1f}  median r (correct) {np.median(r[ok]):.2f}"
          f"  median r needed for 1.58 {np.median(need):.1f}  median r bound any W {np.median(rmax):.2f}"
          f"  eps bound >= 1.58: {(conv(rmax) >= 1.58).mean():.4f}  >= 1.0: {(conv(rmax) >= 1.0).mean():.4f}"
          f"  cert@1.0 {(ok & (conv(r) >= 1.0)).mean():.4f}  sigma_min {smin:.1f}")
