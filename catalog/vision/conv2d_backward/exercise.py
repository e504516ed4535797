"""Backpropagation through a 2-D convolution, by hand.

A convolution layer computes (cross-correlation, as in ``torch.nn.functional.conv2d``; groups = 1)

    out[n, o, i, j] = bias[o] + sum_{c, u, v} weight[o, c, u, v] * x_pad[n, c, i*sH + u*dH, j*sW + v*dW]

where ``x_pad`` is ``x`` with ``pH`` / ``pW`` zeros on both sides of each spatial axis.  Every
gradient follows from this one formula by the chain rule, given ``grad_out = dL/d out``:

* **bias**: each ``bias[o]`` is added to every output of channel ``o``, so ``dbias[o]`` sums
  ``grad_out[:, o]`` over the batch and every position;
* **weight**: ``weight[o, c, u, v]`` multiplies the input pixel at offset ``(u*dH, v*dW)`` of
  every window, so ``dweight[o, c, u, v] = sum_{n, i, j} grad_out[n, o, i, j] *
  x_pad[n, c, i*sH + u*dH, j*sW + v*dW]`` -- a correlation of the input with ``grad_out``;
* **input**: every output position sends ``grad_out[n, o, i, j] * weight[o, c, u, v]`` back to the
  pixel it read, and a pixel read by several windows (kernels overlap when the stride is smaller
  than the kernel) sums their contributions.  This "scatter-add" is the *transposed convolution*
  (col2im); pixels no window reads -- skipped by a large stride, or the last rows when
  ``(H + 2*pH - dH*(kH - 1) - 1)`` is not a multiple of ``sH`` -- get gradient 0, and the padding's
  gradient is cropped away.

Write the three gradients with the signatures of ``torch.nn.grad.conv2d_input`` and
``torch.nn.grad.conv2d_weight``, without autograd, without torch's convolutions and without
``fold`` (``unfold`` and plain slicing are fine).  A loop over the ``kH * kW`` kernel offsets, each
step one tensor operation over all windows, is the intended size.
"""
from typing import Sequence, Tuple, Union

import torch
import torch.nn.functional as F

IntPair = Union[int, Tuple[int, int]]


def _pair(v: IntPair) -> Tuple[int, int]:
    """``3 -> (3, 3)``, ``(2, 1) -> (2, 1)`` (given)."""
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))


def conv2d_grad_bias(grad_out: torch.Tensor) -> torch.Tensor:
    """``dL/dbias`` of a convolution: ``grad_out (N, C_out, H_out, W_out) -> (C_out,)``, summed over the
    batch and every position, in ``grad_out``'s dtype."""
    ### BEGIN SOLUTION
    return grad_out.sum(dim=(0, 2, 3))                                 # (C_out,)
    ### END SOLUTION


def conv2d_grad_weight(x: torch.Tensor, weight_size: Sequence[int], grad_out: torch.Tensor,
                       stride: IntPair = 1, padding: IntPair = 0, dilation: IntPair = 1) -> torch.Tensor:
    """``dL/dweight``, like ``torch.nn.grad.conv2d_weight(x, weight_size, grad_out, stride, padding, dilation)``.

    Args:
        x: the layer's input ``(N, C_in, H, W)``.
        weight_size: ``(C_out, C_in, kH, kW)``.
        grad_out: ``dL/d out``, ``(N, C_out, H_out, W_out)`` with
            ``H_out = (H + 2*pH - dH*(kH - 1) - 1) // sH + 1`` (same for W); same dtype as ``x``.
        stride, padding, dilation: an int (both axes) or a pair ``(for H, for W)``.

    Returns:
        ``(C_out, C_in, kH, kW)`` in ``x``'s dtype: ``sum_{n, i, j} grad_out[n, o, i, j] *
        x_pad[n, c, i*sH + u*dH, j*sW + v*dW]`` (summed over the batch, not averaged).  No input
        is modified.
    """
    ### BEGIN SOLUTION
    (sH, sW), (pH, pW), (dH, dW) = _pair(stride), _pair(padding), _pair(dilation)
    C_out, C_in, kH, kW = weight_size
    H_out, W_out = grad_out.shape[2:]
    x_pad = F.pad(x, (pW, pW, pH, pH))                                 # (N, C_in, H + 2pH, W + 2pW)
    dweight = x.new_zeros(C_out, C_in, kH, kW)
    for u in range(kH):
        for v in range(kW):
            seen = x_pad[:, :, u * dH: u * dH + sH * (H_out - 1) + 1: sH,
                         v * dW: v * dW + sW * (W_out - 1) + 1: sW]    # (N, C_in, H_out, W_out) pixels this tap read
            dweight[:, :, u, v] = torch.einsum("nohw,nchw->oc", grad_out, seen)
    return dweight
    ### END SOLUTION


def conv2d_grad_input(input_size: Sequence[int], weight: torch.Tensor, grad_out: torch.Tensor,
                      stride: IntPair = 1, padding: IntPair = 0, dilation: IntPair = 1) -> torch.Tensor:
    """``dL/dx``, like ``torch.nn.grad.conv2d_input(input_size, weight, grad_out, stride, padding, dilation)``.

    Args:
        input_size: ``(N, C_in, H, W)``, the shape of the layer's input (needed: several input
            sizes give the same ``H_out`` when the stride does not divide evenly).
        weight: ``(C_out, C_in, kH, kW)``.
        grad_out: ``(N, C_out, H_out, W_out)``, same dtype as ``weight``.
        stride, padding, dilation: an int (both axes) or a pair ``(for H, for W)``.

    Returns:
        ``(N, C_in, H, W)`` in ``weight``'s dtype: every output position's ``grad_out *
        weight`` summed into the pixels it read (overlapping windows add up); pixels no window
        read get 0; the padding's gradient is dropped.  No input is modified.
    """
    ### BEGIN SOLUTION
    (sH, sW), (pH, pW), (dH, dW) = _pair(stride), _pair(padding), _pair(dilation)
    N, C_in, H, W = input_size
    kH, kW = weight.shape[2:]
    H_out, W_out = grad_out.shape[2:]
    dx_pad = grad_out.new_zeros(N, C_in, H + 2 * pH, W + 2 * pW)       # the padded input's gradient
    for u in range(kH):
        for v in range(kW):
            contribution = torch.einsum("nohw,oc->nchw", grad_out, weight[:, :, u, v])   # (N, C_in, H_out, W_out)
            dx_pad[:, :, u * dH: u * dH + sH * (H_out - 1) + 1: sH,
                   v * dW: v * dW + sW * (W_out - 1) + 1: sW] += contribution   # scatter-add: overlaps sum
    return dx_pad[:, :, pH: pH + H, pW: pW + W].clone()                # crop the padding away
    ### END SOLUTION


def conv2d_backward(x: torch.Tensor, weight: torch.Tensor, grad_out: torch.Tensor, stride: IntPair = 1,
                    padding: IntPair = 0, dilation: IntPair = 1
                    ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """All three gradients of ``F.conv2d(x, weight, bias, stride, padding, dilation)``:
    ``(dx (N, C_in, H, W), dweight (C_out, C_in, kH, kW), dbias (C_out,))``, from the three
    functions above."""
    ### BEGIN SOLUTION
    return (conv2d_grad_input(x.shape, weight, grad_out, stride, padding, dilation),
            conv2d_grad_weight(x, weight.shape, grad_out, stride, padding, dilation),
            conv2d_grad_bias(grad_out))
    ### END SOLUTION
