# BUG: computes the statistics in the input's dtype: x^2 overflows float16.
import torch
import torch.nn as nn


def rms_norm(x, weight, eps=1e-6):
    input_dtype = x.dtype
    h = x
    mean_square = h.pow(2).mean(dim=-1, keepdim=True)
    h = h * torch.rsqrt(mean_square + eps)
    return weight * h.to(input_dtype)


class RMSNorm(nn.Module):
    def __init__(self, hidden_size, eps=1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(hidden_size))
        self.eps = eps

    def forward(self, x):
        return rms_norm(x, self.weight, self.eps)
