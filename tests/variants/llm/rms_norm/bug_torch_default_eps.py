# BUG: copies torch.nn.RMSNorm's default eps (finfo(dtype).eps) instead of LLaMA's 1e-6.
import torch
import torch.nn as nn


def rms_norm(x, weight, eps=None):
    if eps is None:
        eps = torch.finfo(x.dtype).eps
    input_dtype = x.dtype
    h = x.to(torch.promote_types(input_dtype, torch.float32))
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
