# CORRECT, written differently: each pair is a unit complex number e^{i * pos * w}; torch.polar
# builds them, view_as_real gives (cos, sin), flipped to (sin, cos); the module gathers rows by index.
import torch
import torch.nn as nn
import torch.nn.functional as F


def sinusoidal_positional_encoding(max_len, d_model, base=10000.0, dtype=torch.float32):
    n_pairs = (d_model + 1) // 2
    w = torch.tensor(float(base), dtype=dtype) ** (-2 * torch.arange(n_pairs, dtype=dtype) / d_model)
    angle = torch.outer(torch.arange(max_len, dtype=dtype), w)                # (max_len, n_pairs)
    z = torch.polar(torch.ones_like(angle), angle)                            # e^{i angle}
    pairs = torch.view_as_real(z).flip(-1)                                    # (max_len, n_pairs, 2): sin, cos
    return pairs.reshape(max_len, 2 * n_pairs)[:, :d_model].contiguous()


class PositionalEncoding(nn.Module):
    def __init__(self, d_model, max_len=5000, dropout=0.0, base=10000.0):
        super().__init__()
        self.p = dropout
        self.register_buffer("pe", sinusoidal_positional_encoding(max_len, d_model, base))

    def forward(self, x, offset=0):
        positions = torch.arange(offset, offset + x.shape[1])
        if positions.numel() and positions[-1] >= self.pe.shape[0]:
            raise ValueError(f"max_len is {self.pe.shape[0]}")
        pe = self.pe.index_select(0, positions).to(dtype=x.dtype)
        return F.dropout(x + pe.unsqueeze(0), self.p, self.training)
