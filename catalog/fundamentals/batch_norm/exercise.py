"""Batch normalization (Ioffe & Szegedy, 2015): normalize every channel with the statistics of
the mini-batch, then let the network rescale it.

In training, each channel c is normalized with the mean and the *biased* variance of its values
over the batch (and over every spatial position), ``x_hat = (x - mean) / sqrt(var + eps)``, then
scaled and shifted by the learned ``weight[c]`` and ``bias[c]``.  Gradients flow through the
batch statistics too: they are part of the computation, not constants.

A deployed model cannot depend on what else is in its batch, so training also keeps running
estimates, updated after every training batch without autograd:
``running = (1 - momentum) * running + momentum * batch_stat``, where the running variance takes
the *unbiased* batch variance (n / (n - 1) times the biased one, n = values per channel).
Evaluation mode normalizes with the running estimates and leaves them unchanged.

Implement it as one module with the behaviour of ``torch.nn.BatchNorm1d`` (inputs ``[N, C]`` and
``[N, C, L]``) and ``torch.nn.BatchNorm2d`` (inputs ``[N, C, H, W]``), without calling them or
``torch.nn.functional.batch_norm``.
"""
import torch
from torch import nn


class BatchNorm(nn.Module):
    """Batch normalization over the channel axis 1 of an ``[N, C]``, ``[N, C, L]`` or ``[N, C, H, W]`` input.

    Args:
        num_features: C, the number of channels.
        eps: added to the variance before the square root.
        momentum: weight of the new batch statistic in the running averages (a float in [0, 1]).
        affine: if True, learnable ``weight`` (initialised to ones) and ``bias`` (zeros), both
            ``nn.Parameter`` of shape ``[C]``; if False, ``weight`` and ``bias`` are None.

    State: ``running_mean`` (zeros) and ``running_var`` (ones), shape ``[C]``, registered as
    buffers (in ``state_dict``, moved by ``.to()`` / ``.double()``, never requiring grad).
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1, affine: bool = True):
        super().__init__()
        ### BEGIN SOLUTION
        self.num_features, self.eps, self.momentum, self.affine = num_features, eps, momentum, affine
        if affine:
            self.weight = nn.Parameter(torch.ones(num_features))
            self.bias = nn.Parameter(torch.zeros(num_features))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features))
        ### END SOLUTION

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Normalize ``x`` (``[N, C, *spatial]``, floating point); returns a tensor of the same shape.

        Training mode (``self.training``): normalize with the batch mean and biased variance of
        each channel over all axes but 1, and update the running statistics in place.  Raises
        ValueError if a channel has only one value (N * prod(spatial) == 1): its unbiased
        variance is undefined.  Evaluation mode: normalize with the running statistics.
        ``x`` is not modified.  Accurate in float32 also when |mean| >> std (values around
        1000 +- 1): compute the variance as the mean of (x - mean)^2, not E[x^2] - E[x]^2; a
        constant channel normalizes to 0 (finite output).
        """
        ### BEGIN SOLUTION
        dims = [0] + list(range(2, x.dim()))       # every axis but the channel axis
        shape = [1, -1] + [1] * (x.dim() - 2)     # to broadcast a (C,) vector over x
        if self.training:
            n = x.numel() // x.shape[1]             # values per channel
            if n < 2:
                raise ValueError(f"expected more than 1 value per channel when training, got input {list(x.shape)}")
            mean = x.mean(dim=dims)                             # (C,)
            var = x.var(dim=dims, correction=0)                 # (C,) biased: used to normalize
            with torch.no_grad():
                self.running_mean.mul_(1 - self.momentum).add_(self.momentum * mean)
                self.running_var.mul_(1 - self.momentum).add_(self.momentum * var * n / (n - 1))
        else:
            mean, var = self.running_mean, self.running_var
        x_hat = (x - mean.view(shape)) / torch.sqrt(var.view(shape) + self.eps)
        if self.affine:
            x_hat = x_hat * self.weight.view(shape) + self.bias.view(shape)
        return x_hat
        ### END SOLUTION
