# CORRECT, written differently: the formula entry by entry with Python's math module (in float64),
# then converted; the module keeps the table in a dict-free buffer and adds it with broadcasting.
import math

import torch
from torch import nn


def sinusoidal_positional_encoding(max_len, d_model, base=10000.0, dtype=torch.float32):
    rows = []
    for pos in range(max_len):
        row = []
        for j in range(d_model):
            angle = pos / base ** (2 * (j // 2) / d_model)
            row.append(math.sin(angle) if j % 2 == 0 else math.cos(angle))
        rows.append(row)
    return torch.tensor(rows, dtype=torch.float64).reshape(max_len, d_model).to(dtype)


class PositionalEncoding(nn.Module):
    def __init__(self, d_model, max_len=5000, dropout=0.0, base=10000.0):
        super().__init__()
        self.drop = nn.Dropout(p=dropout)
        self.max_len = max_len
        self.register_buffer("pe", sinusoidal_positional_encoding(max_len, d_model, base), persistent=True)

    def forward(self, x, offset=0):
        if offset + x.shape[-2] > self.max_len:
            raise ValueError("too long")
        y = x.clone()
        y.add_(self.pe[offset: offset + x.shape[-2]].type_as(x))
        return self.drop(y)
