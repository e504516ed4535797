# BUG: normalises x in place (x.mul_), overwriting the caller's tensor.
import torch
import torch.nn as nn


def rms_norm(x, weight, eps=1e-6):
    input_dtype = x.dtype
    h = x.to(torch.promote_types(input_dtype, torch.float32))
    scale = torch.rsqrt(h.pow(2).mean(dim=-1, keepdim=True) + eps)
    if x.requires_grad:
        return weight * (h * scale).to(input_dtype)
    return x.mul_(scale.to(input_dtype)).mul_(weight)


class RMSNorm(nn.Module):
    def __init__(self, hidden_size, eps=1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(hidden_size))
        self.eps = eps

    def forward(self, x):
        return rms_norm(x, self.weight, self.eps)
