# BUG: adds the encoding in place, changing the caller's embeddings.
import math

import torch
import torch.nn as nn


def sinusoidal_positional_encoding(max_len, d_model, base=10000.0, dtype=torch.float32):
    pos = torch.arange(max_len, dtype=dtype).unsqueeze(1)
    inv_freq = torch.exp(torch.arange(0, d_model, 2, dtype=dtype) * (-math.log(base) / d_model))
    angle = pos * inv_freq
    pe = torch.zeros(max_len, d_model, dtype=dtype)
    pe[:, 0::2] = torch.sin(angle)
    pe[:, 1::2] = torch.cos(angle[:, : d_model // 2])
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
        x += self.pe[offset: offset + T].to(x.dtype)
        return self.dropout(x)
