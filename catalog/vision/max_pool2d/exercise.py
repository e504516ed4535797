"""Max pooling with indices, the way torch computes it.

Max pooling keeps the largest activation of every window: it shrinks feature maps, adds a little
translation invariance, and -- unlike average pooling -- routes the whole gradient of an output
to the one input that won.  ``torch.nn.functional.max_pool2d`` has a few details that
interviewers like to probe, and that your implementation must reproduce:

* ``stride`` defaults to ``kernel_size`` (non-overlapping windows);
* padding is implicit **-inf**, not zero -- a padded pixel can never win, even if every real
  value is negative;
* ``dilation`` spreads the taps of a window apart;
* ``ceil_mode`` keeps a last partial window, but only if it starts inside the input (or its
  left padding) -- see ``vision/conv_arithmetic``;
* ``return_indices`` also returns where each maximum came from, as a flat index ``h * W + w``
  into the (unpadded) ``H x W`` plane of its own image and channel: the format
  ``nn.MaxUnpool2d`` consumes.
"""
from typing import Optional, Tuple, Union

import torch
import torch.nn.functional as F

IntPair = Union[int, Tuple[int, int]]


def max_pool2d(x: torch.Tensor, kernel_size: IntPair, stride: Optional[IntPair] = None, padding: IntPair = 0,
               dilation: IntPair = 1, ceil_mode: bool = False,
               return_indices: bool = False) -> Union[torch.Tensor, Tuple[torch.Tensor, torch.Tensor]]:
    """2-D max pooling over ``x`` of shape ``[N, C, H, W]``, like ``torch.nn.functional.max_pool2d``.

    Args:
        x: ``[N, C, H, W]`` floating tensor (any strides); it is not modified.
        kernel_size, padding, dilation: an int (both axes) or a pair ``(for H, for W)``.
        stride: an int or pair, or None meaning ``kernel_size``.
        ceil_mode: round the number of windows up instead of down (a last partial window is kept
            only if it starts inside the input or the left padding).
        return_indices: also return the position of every maximum.

    Returns:
        ``out`` of shape ``[N, C, H_out, W_out]`` (dtype of ``x``) where
        ``H_out = floor_or_ceil((H + 2 * pad_H - dil_H * (kH - 1) - 1) / stride_H) + 1`` (same for W),
        ``out[n, c, i, j] = max over u < kH, v < kW of x_pad[n, c, i*stride_H + u*dil_H, j*stride_W + v*dil_W]``
        with ``x_pad`` padded by -inf; and, if ``return_indices``, ``(out, indices)`` with ``indices``
        int64 of the same shape holding ``h * W + w`` of the winning input pixel.  Where a window holds
        ties, any of the tied positions may be reported.  Differentiable: the gradient of each output
        flows to the input pixel it came from.

    Raises:
        ValueError: if the padding exceeds half the kernel (``pad > kernel_size // 2`` on either
            axis) or the output would be empty (``H_out < 1`` or ``W_out < 1``).
    """
    ### BEGIN SOLUTION
    pair = lambda v: (v, v) if isinstance(v, int) else tuple(v)  # noqa: E731
    (kH, kW), (pH, pW), (dH, dW) = pair(kernel_size), pair(padding), pair(dilation)
    sH, sW = pair(kernel_size if stride is None else stride)
    N, C, H, W = x.shape
    if pH > kH // 2 or pW > kW // 2:
        raise ValueError(f"padding ({pH}, {pW}) must be at most half the kernel ({kH}, {kW})")

    def n_windows(size, k, s, p, d):
        room = size + 2 * p - d * (k - 1) - 1                     # how far a window can slide
        n = (-(-room // s) if ceil_mode else room // s) + 1
        if ceil_mode and (n - 1) * s >= size + p:                 # last window starts in the right padding
            n -= 1
        return n

    H_out, W_out = n_windows(H, kH, sH, pH, dH), n_windows(W, kW, sW, pW, dW)
    if H_out < 1 or W_out < 1:
        raise ValueError(f"output size ({H_out}, {W_out}) is empty for input ({H}, {W})")
    # -inf padding; ceil mode may need extra room at the bottom/right for the last window
    extra_H = max(0, (H_out - 1) * sH + dH * (kH - 1) + 1 - (H + 2 * pH))
    extra_W = max(0, (W_out - 1) * sW + dW * (kW - 1) + 1 - (W + 2 * pW))
    xp = F.pad(x, (pW, pW + extra_W, pH, pH + extra_H), value=float("-inf"))
    cols = F.unfold(xp, (kH, kW), dilation=(dH, dW), stride=(sH, sW))   # (N, C*kH*kW, H_out*W_out)
    cols = cols.view(N, C, kH * kW, H_out * W_out)                       # (N, C, kH*kW, L)
    out, arg = cols.max(dim=2)                                           # (N, C, L) each
    out = out.view(N, C, H_out, W_out)
    if not return_indices:
        return out
    # kernel tap (u, v) of window (i, j) -> input pixel (row, col), without the padding
    u, v = arg.div(kW, rounding_mode="floor"), arg % kW                  # (N, C, L)
    i = torch.arange(H_out).repeat_interleave(W_out)                     # (L,) window row
    j = torch.arange(W_out).repeat(H_out)                                # (L,) window column
    row = i * sH - pH + u * dH
    col = j * sW - pW + v * dW
    return out, (row * W + col).view(N, C, H_out, W_out)
    ### END SOLUTION
