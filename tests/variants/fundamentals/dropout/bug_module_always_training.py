# BUG: Dropout.forward never passes self.training, so the module keeps dropping after .eval().
import torch
import torch.nn as nn


def dropout(x, p=0.5, training=True, generator=None):
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training:
        return x
    keep = torch.rand(x.shape, generator=generator) >= p
    scale = 1.0 / (1.0 - p) if p < 1.0 else 0.0
    return x * keep * scale


class Dropout(nn.Module):
    def __init__(self, p=0.5):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p

    def forward(self, x):
        return dropout(x, self.p)
