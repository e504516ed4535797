# BUG: works in X's dtype: float32 data gives a float32 midpoint (rounded) and a float32 comparison in predict.
import math
from typing import NamedTuple

import torch


class Stump(NamedTuple):
    feature: int
    threshold: float
    left_class: int
    right_class: int
    gain: float


def gini(counts):
    total = counts.sum(-1, keepdim=True)
    p = counts / total.clamp_min(1e-300)
    return torch.where(total[..., 0] > 0, 1 - (p * p).sum(-1), torch.zeros_like(total[..., 0]))


def fit_stump(X, y, sample_weight=None):
    n, d = X.shape
    C = int(y.max()) + 1
    w = torch.ones(n, dtype=torch.float64) if sample_weight is None else sample_weight.double()
    onehot = torch.nn.functional.one_hot(y, C).double() * w[:, None]
    total = onehot.sum(0)
    xs, order = torch.sort(X, dim=0)
    left = torch.cumsum(onehot[order], dim=0)[:-1]
    right = total - left
    W = total.sum()
    gain = gini(total) - left.sum(-1) / W * gini(left) - right.sum(-1) / W * gini(right)
    valid = xs[1:] > xs[:-1]
    if not valid.any():
        m = int(total.argmax())
        return Stump(-1, math.inf, m, m, 0.0)
    gain = gain.masked_fill(~valid, -math.inf)
    flat = (gain >= gain.max() - 1e-12).T.reshape(-1)
    j, i = divmod(int(flat.nonzero()[0]), n - 1)
    a, b = xs[i, j].item(), xs[i + 1, j].item()
    t = float(xs[i, j] / 2 + xs[i + 1, j] / 2)
    if t == b:
        t = a
    return Stump(j, t, int(left[i, j].argmax()), int(right[i, j].argmax()), gain[i, j].item())


def predict_stump(stump, X):
    if stump.feature < 0:
        return torch.full((X.shape[0],), stump.left_class, dtype=torch.int64)
    go_left = X[:, stump.feature] <= stump.threshold
    return torch.where(go_left, stump.left_class, stump.right_class).long()
