# BUG: gives every column its own frequency base ** (j / d) instead of sharing base ** (2i / d) per pair.
import math

import torch
import torch.nn as nn


def sinusoidal_positional_encoding(max_len, d_model, base=10000.0, dtype=torch.float32):
    pos = torch.arange(max_len, dtype=dtype).unsqueeze(1)
    inv_freq = torch.exp(torch.arange(d_model, dtype=dtype) * (-math.log(base) / d_model))
    angle = pos * inv_freq
    pe = torch.zeros(max_len, d_model, dtype=dtype)
    pe[:, 0::2] = torch.sin(angle[:, 0::2])
    pe[:, 1::2] = torch.cos(angle[:, 1::2])
    return pe


class PositionalEncoding(nn.Module):
    def __init__(self, d_model, max_len=5000, dropout=0.0, base=10000.0):
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.register_buffer("pe", sinusoidal_positional_encoding(max_len, d_model, base))

    def forward(self, x, offset=0):
        T = x.size(1)
        if offset + T > self.pe.size(0):
            raise ValueError("sequence too long")
        return self.dropout(x + self.pe[offset: offset + T].to(x.dtype))
