# CORRECT, written differently: a Bernoulli(1 - p) keep-mask in x's dtype and torch.where, with p = 1
# handled by an explicit early return that still depends on x (so gradients stay defined).
import torch
import torch.nn as nn


def _check(p):
    if p < 0 or p > 1:
        raise ValueError(f"p must lie in [0, 1], got {p}")


def dropout(x, p=0.5, training=True, generator=None):
    _check(p)
    if not training or p == 0:
        return x.clone()
    if p == 1:
        return x * 0
    keep_prob = torch.full_like(x, 1 - p)
    keep = torch.bernoulli(keep_prob, generator=generator).bool()
    return torch.where(keep, x / (1 - p), torch.zeros((), dtype=x.dtype))


class Dropout(nn.Module):
    def __init__(self, p=0.5):
        super().__init__()
        _check(p)
        self.p = float(p)

    def extra_repr(self):
        return f"p={self.p}"

    def forward(self, x):
        return dropout(x, self.p, training=self.training) if self.training else x
