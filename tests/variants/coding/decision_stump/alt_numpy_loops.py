# CORRECT, written differently: numpy loops over features and distinct values, class totals by
# np.bincount with weights, and an explicit candidate list sorted by (feature, threshold).
import math
from typing import NamedTuple

import numpy as np
import torch


class Stump(NamedTuple):
    feature: int
    threshold: float
    left_class: int
    right_class: int
    gain: float


def gini(counts):
    c = counts.detach().cpu().numpy().astype(np.float64)
    total = c.sum(axis=-1)
    safe = np.where(total > 0, total, 1.0)
    out = np.where(total > 0, 1.0 - ((c / safe[..., None]) ** 2).sum(axis=-1), 0.0)
    return torch.from_numpy(np.asarray(out)).to(counts.dtype)


def _impurity(t):
    W = t.sum()
    return 0.0 if W == 0 else 1.0 - float(np.dot(t / W, t / W))


def fit_stump(X, y, sample_weight=None):
    Xn = X.detach().cpu().numpy().astype(np.float64)
    yn = y.detach().cpu().numpy()
    n, d = Xn.shape
    C = int(yn.max()) + 1
    w = np.ones(n) if sample_weight is None else sample_weight.detach().cpu().numpy().astype(np.float64)
    parent = np.bincount(yn, weights=w, minlength=C)
    W = parent.sum()
    g0 = _impurity(parent)
    cands = []
    for j in range(d):
        vals = np.unique(Xn[:, j])
        for a, b in zip(vals[:-1], vals[1:]):
            t = float(a) * 0.5 + float(b) * 0.5
            if t >= b:
                t = float(a)
            m = Xn[:, j] <= t
            tl = np.bincount(yn[m], weights=w[m], minlength=C)
            tr = parent - tl
            gain = g0 - tl.sum() / W * _impurity(tl) - tr.sum() / W * _impurity(tr)
            cands.append((j, t, gain, tl, tr))
    if not cands:
        m = int(np.argmax(parent))
        return Stump(-1, math.inf, m, m, 0.0)
    top = max(c[2] for c in cands)
    j, t, gain, tl, tr = min((c for c in cands if c[2] >= top - 1e-12), key=lambda c: (c[0], c[1]))
    return Stump(j, t, int(np.argmax(tl)), int(np.argmax(tr)), float(gain))


def predict_stump(stump, X):
    Xn = X.detach().cpu().numpy()
    if stump.feature < 0:
        return torch.full((Xn.shape[0],), stump.left_class, dtype=torch.int64)
    col = Xn[:, stump.feature].astype(np.float64)
    return torch.from_numpy(np.where(col <= stump.threshold, stump.left_class, stump.right_class).astype(np.int64))
