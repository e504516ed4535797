# BUG: builds a float32 mask (.float()), which silently upcasts float16/bfloat16 inputs to float32.
import torch
import torch.nn as nn


def dropout(x, p=0.5, training=True, generator=None):
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training:
        return x
    if p == 1.0:
        return x * 0.0
    mask = (torch.rand(x.shape, generator=generator) >= p).float() / (1 - p)
    return x * mask


class Dropout(nn.Module):
    def __init__(self, p=0.5):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p

    def forward(self, x):
        return dropout(x, self.p, self.training)
