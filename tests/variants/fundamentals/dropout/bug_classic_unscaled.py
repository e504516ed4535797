# BUG: "classic" (non-inverted) dropout: no 1/(1-p) scaling in training, multiplies by (1-p) at eval.
import torch
import torch.nn as nn


def dropout(x, p=0.5, training=True, generator=None):
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training:
        return x * (1 - p)
    mask = torch.rand(x.shape, generator=generator) >= p
    return x * mask


class Dropout(nn.Module):
    def __init__(self, p=0.5):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p

    def forward(self, x):
        return dropout(x, self.p, self.training)
