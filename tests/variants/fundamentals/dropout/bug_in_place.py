# BUG: applies the mask in place (x.mul_), so the caller's tensor is changed.
import torch
import torch.nn as nn


def dropout(x, p=0.5, training=True, generator=None):
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training:
        return x
    if p == 1.0:
        return torch.zeros_like(x)
    mask = (torch.rand(x.shape, generator=generator) >= p).to(x.dtype) / (1 - p)
    with torch.no_grad():
        x.mul_(mask)
    return x


class Dropout(nn.Module):
    def __init__(self, p=0.5):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p

    def forward(self, x):
        return dropout(x, self.p, self.training)
