"""The residual block of ResNet: learn a correction to the identity.

A deep plain network multiplies one Jacobian per layer on the way back, and the product can
vanish.  He et al. (2016, "Deep Residual Learning for Image Recognition") let every block
compute ``out = relu(F(x) + x)``: the block only has to learn the residual ``F(x)``, and the
``+ x`` gives the gradient a path that skips the convolutions entirely, so it reaches early
layers even when ``F``'s own gradient is tiny.

Implement the "basic block" of ResNet-18/34, as in ``torchvision.models.resnet.BasicBlock``:

    x ──> conv3x3 ─> BN ─> ReLU ─> conv3x3 ─> BN ──(+)──> ReLU ──> out
    └──────────────── shortcut(x) ────────────────┘

When the block changes the shape (``stride > 1`` or ``out_channels != in_channels``), ``x``
cannot be added as it is; the shortcut is then a *projection*: a 1x1 convolution with the
same stride followed by batch norm (ResNet's "option B").  Use ``torch.nn`` layers
(``nn.Conv2d``, ``nn.BatchNorm2d``); the grader compares your block with one built from the
same layers and loaded with the same weights, in training and in eval mode.
"""
from typing import Optional

import torch
import torch.nn as nn


class ResidualBlock(nn.Module):
    """ResNet's basic block: ``relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))``.

    Args:
        in_channels: channels of the input.
        out_channels: channels of the output (``None``: same as ``in_channels``).
        stride: stride of the first 3x3 convolution (and of the projection); 1 or 2 in ResNets.

    Submodules -- exactly these names, so that ``state_dict()`` matches torchvision's BasicBlock:
        conv1: ``Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)``
        bn1:   ``BatchNorm2d(out_channels)``
        conv2: ``Conv2d(out_channels, out_channels, 3, stride=1, padding=1, bias=False)``
        bn2:   ``BatchNorm2d(out_channels)``
        downsample: the projection shortcut ``Sequential(Conv2d(in_channels, out_channels, 1,
            stride=stride, bias=False), BatchNorm2d(out_channels))`` when ``stride != 1`` or
            ``out_channels != in_channels``.  Otherwise the shortcut is the identity and the block
            has no shortcut parameters (torchvision stores ``downsample = None``).
    The convolutions have no bias: the batch norm right after each one has its own shift.

    ``forward(x)`` takes ``x`` of shape ``(N, in_channels, H, W)`` and returns
    ``(N, out_channels, H_out, W_out)`` with ``H_out = (H - 1) // stride + 1`` (same for W).
    The final ReLU comes *after* the addition.  ``x`` is not modified.  Batch norm behaves as
    usual: batch statistics (and running-statistics updates) in training mode, running
    statistics in eval mode.
    """

    def __init__(self, in_channels: int, out_channels: Optional[int] = None, stride: int = 1):
        super().__init__()
        ### BEGIN SOLUTION
        out_channels = in_channels if out_channels is None else out_channels
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.downsample = None
        if stride != 1 or out_channels != in_channels:
            self.downsample = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                nn.BatchNorm2d(out_channels),
            )
        ### END SOLUTION

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        ### BEGIN SOLUTION
        identity = x if self.downsample is None else self.downsample(x)   # (N, C_out, H_out, W_out)
        out = self.relu(self.bn1(self.conv1(x)))                           # (N, C_out, H_out, W_out)
        out = self.bn2(self.conv2(out))                                    # (N, C_out, H_out, W_out)
        return self.relu(out + identity)
        ### END SOLUTION
