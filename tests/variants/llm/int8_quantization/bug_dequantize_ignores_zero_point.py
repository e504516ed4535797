# BUG: dequantizes as q * scale, ignoring the zero point.
"""Int8 quantization: per-tensor and per-channel, symmetric and affine, and an integer matmul.

Storing weights (and activations) as 8-bit integers instead of 32-bit floats cuts memory and
bandwidth by 4x and lets integer units do the matmuls: LLM.int8(), GPTQ and every mobile runtime
rest on it.  A float x maps to an integer ``q = clamp(round(x / scale) + zero_point, qmin, qmax)``
and back to ``(q - zero_point) * scale``.  *Symmetric* quantization fixes ``zero_point = 0`` and
spreads ``[-max|x|, max|x|]`` over the signed range; *affine* (asymmetric) quantization maps
``[min, max]`` onto the whole range with a zero point, wasting no codes on one-sided data (e.g.
after a ReLU).  *Per-channel* quantization gives each output channel of a weight its own scale,
so one large row does not crush the precision of all the others.

Implement PyTorch's recipe (``torch.ao.quantization``'s ``MinMaxObserver`` /
``PerChannelMinMaxObserver`` for the parameters, ``torch.quantize_per_tensor`` /
``quantize_per_channel`` for the codes) without calling it, then a linear layer computed on the
integer codes.
"""
from typing import Optional

import torch

RANGES = {torch.int8: (-128, 127), torch.uint8: (0, 255)}
EPS = torch.finfo(torch.float32).eps


def compute_qparams(x: torch.Tensor, symmetric: bool, dtype: torch.dtype = torch.int8,
                    axis: Optional[int] = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Scale and zero point from the range of ``x`` (PyTorch's min/max observers).

    Args:
        x: float tensor.
        symmetric: True -- only for ``dtype=torch.int8`` -- or False (affine).
        dtype: ``torch.int8`` (qmin, qmax = -128, 127) or ``torch.uint8`` (0, 255).
        axis: None for one scale for the whole tensor; else one per index along ``axis`` (the
            minimum and maximum taken over all other dims).

    With ``lo = min(min(x), 0)`` and ``hi = max(max(x), 0)`` (the range always contains 0, so 0 is
    represented exactly):

    * symmetric: ``scale = max(-lo, hi) / ((qmax - qmin) / 2)`` (that is, / 127.5), zero_point 0
      (so the largest magnitude lands on +-127.5 codes and saturates at 127 or -128);
    * affine: ``scale = (hi - lo) / (qmax - qmin)``, ``zero_point = clamp(qmin - round(lo / scale),
      qmin, qmax)``;

    and in both cases ``scale = max(scale, EPS)`` BEFORE the zero point is computed (an all-zero
    tensor must not divide by zero).  ``round`` is ``torch.round`` (halves to even).

    Returns:
        ``(scale, zero_point)``: float32 and int64 tensors, 0-d when ``axis`` is None, else of shape
        ``[x.shape[axis]]``.

    Raises:
        ValueError: for ``symmetric=True`` with ``dtype=torch.uint8``.
    """
    if symmetric and dtype != torch.int8:
        raise ValueError("symmetric quantization here uses the signed int8 range")
    qmin, qmax = RANGES[dtype]
    if axis is None:
        lo, hi = x.min(), x.max()
    else:
        flat = x.movedim(axis, 0).reshape(x.size(axis), -1)                 # (C, everything else)
        lo, hi = flat.min(dim=1).values, flat.max(dim=1).values
    lo = torch.clamp(lo, max=0.0).float()
    hi = torch.clamp(hi, min=0.0).float()
    if symmetric:
        scale = torch.maximum(-lo, hi) / ((qmax - qmin) / 2)
        scale = torch.clamp(scale, min=EPS)
        zero_point = torch.zeros_like(scale, dtype=torch.int64)
    else:
        scale = torch.clamp((hi - lo) / (qmax - qmin), min=EPS)
        zero_point = torch.clamp(qmin - torch.round(lo / scale), qmin, qmax).to(torch.int64)
    return scale, zero_point


def _broadcast(t: torch.Tensor, x: torch.Tensor, axis: Optional[int]) -> torch.Tensor:
    """A per-channel parameter [C] shaped to broadcast along ``axis`` of ``x`` (given)."""
    if axis is None:
        return t
    shape = [1] * x.dim()
    shape[axis] = -1
    return t.reshape(shape)


def quantize(x: torch.Tensor, scale: torch.Tensor, zero_point: torch.Tensor, dtype: torch.dtype = torch.int8,
             axis: Optional[int] = None) -> torch.Tensor:
    """The integer codes ``clamp(round(x * inv_scale + zero_point), qmin, qmax)`` as a ``dtype``
    tensor of x's shape (``torch.quantize_per_tensor(...).int_repr()``, or ``quantize_per_channel``
    when ``axis`` is given with scale and zero_point of shape ``[x.shape[axis]]``).

    Exactly as torch computes it: ``inv_scale = 1 / scale`` in float32 and MULTIPLIED (dividing can
    land on the other side of a .5 -- and the symmetric scheme puts the largest magnitude exactly at
    127.5 codes); the zero point added BEFORE rounding; ``round`` is ``torch.round`` (halves to
    even, so with an odd zero point a tie goes the other way than round-then-add); values beyond
    the range saturate at qmin / qmax."""
    qmin, qmax = RANGES[dtype]
    s, z = _broadcast(scale, x, axis), _broadcast(zero_point, x, axis)
    inv_scale = 1.0 / s.to(torch.float32)
    return torch.clamp(torch.round(x * inv_scale + z), qmin, qmax).to(dtype)


def dequantize(q: torch.Tensor, scale: torch.Tensor, zero_point: torch.Tensor,
               axis: Optional[int] = None) -> torch.Tensor:
    """``(q - zero_point) * scale`` as float32, per tensor or per channel along ``axis``."""
    s, z = _broadcast(scale, q, axis), _broadcast(zero_point, q, axis)
    return q.to(torch.float32) * s


def int8_linear(x: torch.Tensor, weight: torch.Tensor, bias: Optional[torch.Tensor] = None) -> torch.Tensor:
    """A linear layer computed on integer codes, as an int8 inference kernel does.

    Quantize the activations ``x [N, in]`` per tensor, AFFINE, to uint8 (scale s_x, zero point z_x)
    and the weight ``[out, in]`` per output channel (axis 0), SYMMETRIC, to int8 (scales s_w[j]).
    Then accumulate in integers: ``acc[n, j] = sum_k (q_x[n, k] - z_x) * q_w[j, k]`` (in int32 or
    int64 -- int8 products would overflow), and rescale: ``y = s_x * s_w[j] * acc + bias[j]``.

    Returns:
        float32 ``[N, out]``, equal (up to float rounding) to ``x_hat @ w_hat^T + bias`` where
        ``x_hat`` and ``w_hat`` are the dequantized activations and weight.
    """
    s_x, z_x = compute_qparams(x, symmetric=False, dtype=torch.uint8)
    s_w, z_w = compute_qparams(weight, symmetric=True, dtype=torch.int8, axis=0)
    q_x = quantize(x, s_x, z_x, torch.uint8).to(torch.int64)                 # (N, in)
    q_w = quantize(weight, s_w, z_w, torch.int8, axis=0).to(torch.int64)      # (out, in)
    acc = (q_x - z_x) @ q_w.T                                                 # (N, out), exact integers
    y = acc.to(torch.float32) * (s_x * s_w)                                   # per output channel
    return y if bias is None else y + bias
