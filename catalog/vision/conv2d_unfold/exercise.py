"""2-D convolution as one matrix multiplication (im2col).

A convolution layer slides a small kernel over the image and takes a dot product at every
position.  Looping over positions in Python is hopelessly slow; the classic trick (Caffe's
``im2col``, Chellapilla et al. 2006) copies every receptive-field patch into a column of a
matrix, so that the whole layer becomes a single matmul: ``weight (C_out, C_in*kH*kW) @ columns
(C_in*kH*kW, H_out*W_out)``.  ``torch.nn.functional.unfold`` builds those columns for you.

Implement ``conv2d`` with the semantics of ``torch.nn.functional.conv2d`` -- stride, zero
padding, dilation, groups and bias -- using unfold (or your own patch extraction) and matmul.
Remember that deep-learning "convolution" is a cross-correlation: the kernel is *not* flipped.
With ``groups = G`` the input channels are split into G consecutive blocks and each block of
output channels only sees its own block of inputs (``groups = C_in`` is a depthwise conv).
"""
from typing import Optional, Tuple, Union

import torch
import torch.nn.functional as F

IntPair = Union[int, Tuple[int, int]]


def conv2d(x: torch.Tensor, weight: torch.Tensor, bias: Optional[torch.Tensor] = None,
           stride: IntPair = 1, padding: IntPair = 0, dilation: IntPair = 1,
           groups: int = 1) -> torch.Tensor:
    """2-D cross-correlation of a batch of images, like ``torch.nn.functional.conv2d``.

    Args:
        x: ``[N, C_in, H, W]`` float tensor (any strides; N may be 0).
        weight: ``[C_out, C_in // groups, kH, kW]``, same dtype as ``x``.
        bias: ``[C_out]`` or None.
        stride, padding, dilation: an int (used for both axes) or a tuple ``(for H, for W)``.
            Padding adds that many zeros on both sides of the axis.
        groups: input channels are split into ``groups`` consecutive blocks, and so are the
            output channels; output block ``g`` is computed from input block ``g`` only.

    Returns:
        ``[N, C_out, H_out, W_out]`` in the dtype of ``x``, with
        ``H_out = (H + 2 * pad_H - dil_H * (kH - 1) - 1) // stride_H + 1`` (same for W), and
        ``out[n, o, i, j] = bias[o] + sum_{c, u, v} weight[o, c, u, v] *
        x_padded[n, g * C_in/groups + c, i * stride_H + u * dil_H, j * stride_W + v * dil_W]``
        where ``g = o // (C_out / groups)``.  Differentiable in ``x``, ``weight`` and ``bias``;
        the inputs are not modified.

    Raises:
        ValueError: if ``C_in != groups * weight.shape[1]``, if ``C_out`` is not divisible by
            ``groups``, or if the dilated kernel is larger than the padded input (H_out or W_out < 1).
    """
    ### BEGIN SOLUTION
    pair = lambda v: (v, v) if isinstance(v, int) else tuple(v)  # noqa: E731
    (sH, sW), (pH, pW), (dH, dW) = pair(stride), pair(padding), pair(dilation)
    N, C_in, H, W = x.shape
    C_out, C_g, kH, kW = weight.shape
    if C_in != groups * C_g or C_out % groups != 0:
        raise ValueError(f"weight {list(weight.shape)} does not fit C_in={C_in} with groups={groups}")
    H_out = (H + 2 * pH - dH * (kH - 1) - 1) // sH + 1
    W_out = (W + 2 * pW - dW * (kW - 1) - 1) // sW + 1
    if H_out < 1 or W_out < 1:
        raise ValueError(f"kernel ({kH}, {kW}) with dilation ({dH}, {dW}) does not fit the padded input")
    L = H_out * W_out
    cols = F.unfold(x, (kH, kW), dilation=(dH, dW), padding=(pH, pW), stride=(sH, sW))  # (N, C_in*kH*kW, L)
    cols = cols.view(N, groups, C_g * kH * kW, L)                 # (N, G, C_g*kH*kW, L): channel-major rows
    w = weight.reshape(groups, C_out // groups, C_g * kH * kW)    # (G, C_out/G, C_g*kH*kW)
    out = w @ cols                                                # (N, G, C_out/G, L)
    out = out.reshape(N, C_out, H_out, W_out)                     # (N, C_out, H_out, W_out)
    if bias is not None:
        out = out + bias.view(1, C_out, 1, 1)
    return out
    ### END SOLUTION
