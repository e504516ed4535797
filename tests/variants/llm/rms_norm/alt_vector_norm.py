# CORRECT, written differently: the RMS as ||x|| / sqrt(d) through torch.linalg.vector_norm,
# upcasting only half precision, and division instead of rsqrt.
import math

import torch
import torch.nn as nn


def rms_norm(x, weight, eps=1e-6):
    h = x.float() if x.dtype in (torch.float16, torch.bfloat16) else x
    d = h.shape[-1]
    sq_norm = torch.linalg.vector_norm(h, ord=2, dim=-1, keepdim=True) ** 2
    rms = torch.sqrt(sq_norm / d + eps)
    return weight * (h / rms).to(x.dtype)


class RMSNorm(nn.Module):
    def __init__(self, hidden_size, eps=1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(hidden_size))

    def forward(self, x):
        return rms_norm(x, self.weight, eps=self.eps)
