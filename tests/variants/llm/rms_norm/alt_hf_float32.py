# CORRECT, written differently: Hugging Face's LlamaRMSNorm order verbatim -- always to float32
# (float64 too), einsum for the mean square -- and the module computes inline.
import torch
import torch.nn as nn


def rms_norm(x, weight, eps=1e-6):
    input_dtype = x.dtype
    h = x.to(torch.float32)
    variance = torch.einsum("...d,...d->...", h, h).unsqueeze(-1) / h.shape[-1]
    h = h * torch.rsqrt(variance + eps)
    return weight * h.to(input_dtype)


class RMSNorm(nn.Module):
    def __init__(self, hidden_size, eps=1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(hidden_size))
        self.eps = eps

    def forward(self, hidden_states):
        dtype = hidden_states.dtype
        h = hidden_states.to(torch.float32)
        h = h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * h.to(dtype)
