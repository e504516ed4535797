# CORRECT, written differently: move channels first and flatten to (C, n), two-pass statistics by
# hand, running averages with lerp_ on detached values, and the affine map fused into scale/shift.
import torch
from torch import nn


class BatchNorm(nn.Module):
    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True):
        super().__init__()
        self.eps = eps
        self.momentum = momentum
        if affine:
            self.weight = nn.Parameter(torch.ones(num_features))
            self.bias = nn.Parameter(torch.zeros(num_features))
        else:
            self.weight = self.bias = None
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features))

    def forward(self, x):
        c = x.shape[1]
        flat = x.transpose(0, 1).reshape(c, -1)                  # (C, N * spatial)
        n = flat.shape[1]
        if self.training:
            if n <= 1:
                raise ValueError(f"BatchNorm needs more than 1 value per channel in training, got {tuple(x.shape)}")
            mean = flat.sum(1) / n
            centred = flat - mean[:, None]
            sq = (centred * centred).sum(1)
            var = sq / n
            self.running_mean.lerp_(mean.detach(), self.momentum)
            self.running_var.lerp_(sq.detach() / (n - 1), self.momentum)
        else:
            mean, var = self.running_mean, self.running_var
        scale = torch.rsqrt(var + self.eps)                        # (C,)
        if self.weight is not None:
            scale = scale * self.weight
        shift = -mean * scale
        if self.bias is not None:
            shift = shift + self.bias
        view = (1, c) + (1,) * (x.dim() - 2)
        return x * scale.reshape(view) + shift.reshape(view)
