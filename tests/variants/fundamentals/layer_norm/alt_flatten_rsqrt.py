# CORRECT, written differently: flatten the normalized dimensions into one, use torch.var_mean
# (biased), rsqrt, and rebuild the shape; the module stores its shape via torch.Size.
import torch
from torch import nn


def layer_norm(x, normalized_shape, weight=None, bias=None, eps=1e-5):
    if isinstance(normalized_shape, int):
        normalized_shape = [normalized_shape]
    k = len(normalized_shape)
    if x.dim() < k or list(x.shape[x.dim() - k:]) != list(normalized_shape):
        raise ValueError(f"layer_norm: shape {tuple(x.shape)} does not end with {tuple(normalized_shape)}")
    lead = x.shape[: x.dim() - k]
    flat = x.reshape(*lead, -1)                                   # (*, D)
    var, mean = torch.var_mean(flat, dim=-1, keepdim=True, correction=0)
    y = ((flat - mean) * torch.rsqrt(var + eps)).reshape(x.shape)
    if weight is not None:
        y = torch.addcmul(torch.zeros_like(y) if bias is None else bias.expand_as(y), y, weight.expand_as(y))
    elif bias is not None:
        y = y + bias
    return y


class LayerNorm(nn.Module):
    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True):
        super().__init__()
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(torch.Size(normalized_shape))
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(self.normalized_shape)) if elementwise_affine else None
        self.bias = nn.Parameter(torch.zeros(self.normalized_shape)) if elementwise_affine else None

    def forward(self, x):
        return layer_norm(x, self.normalized_shape, self.weight, self.bias, eps=self.eps)
