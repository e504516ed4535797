# BUG: reduces over the batch axis only (dim 0), so [N, C, L] / [N, C, H, W] inputs get per-position statistics.
import torch
from torch import nn


class BatchNorm(nn.Module):
    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True):
        super().__init__()
        self.eps, self.momentum, self.affine = eps, momentum, affine
        self.weight = nn.Parameter(torch.ones(num_features)) if affine else None
        self.bias = nn.Parameter(torch.zeros(num_features)) if affine else None
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features))

    def forward(self, x):
        shape = [1, -1] + [1] * (x.dim() - 2)
        if self.training:
            n = x.shape[0]
            if n < 2:
                raise ValueError("need more than one value per channel")
            mean = x.mean(0, keepdim=True)                    # (1, C, *spatial)
            var = x.var(0, correction=0, keepdim=True)
            with torch.no_grad():                              # average the per-position stats per channel
                c = x.shape[1]
                self.running_mean.mul_(1 - self.momentum).add_(self.momentum * mean.reshape(c, -1).mean(1))
                self.running_var.mul_(1 - self.momentum).add_(
                    self.momentum * (var * n / (n - 1)).reshape(c, -1).mean(1))
        else:
            mean, var = self.running_mean.view(shape), self.running_var.view(shape)
        y = (x - mean) / torch.sqrt(var + self.eps)
        return y * self.weight.view(shape) + self.bias.view(shape) if self.affine else y
