# BUG: lets F.unfold do the padding -- it pads with zeros, so 0 beats all-negative windows at the border.
import torch
import torch.nn.functional as F


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def _n_windows(size, k, s, p, d, ceil_mode):
    room = size + 2 * p - d * (k - 1) - 1
    n = (-(-room // s) if ceil_mode else room // s) + 1
    if ceil_mode and (n - 1) * s >= size + p:
        n -= 1
    return n


def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    (kH, kW), (pH, pW), (dH, dW) = _pair(kernel_size), _pair(padding), _pair(dilation)
    sH, sW = _pair(kernel_size if stride is None else stride)
    N, C, H, W = x.shape
    if pH > kH // 2 or pW > kW // 2:
        raise ValueError("padding must be at most half the kernel")
    H_out, W_out = _n_windows(H, kH, sH, pH, dH, ceil_mode), _n_windows(W, kW, sW, pW, dW, ceil_mode)
    if H_out < 1 or W_out < 1:
        raise ValueError("empty output")
    extra_H = max(0, (H_out - 1) * sH + dH * (kH - 1) + 1 - (H + 2 * pH))
    extra_W = max(0, (W_out - 1) * sW + dW * (kW - 1) + 1 - (W + 2 * pW))
    xp = F.pad(x, (0, extra_W, 0, extra_H), value=float("-inf"))
    cols = F.unfold(xp, (kH, kW), dilation=(dH, dW), padding=(pH, pW), stride=(sH, sW))
    cols = cols.view(N, C, kH * kW, H_out * W_out)
    out, arg = cols.max(dim=2)
    out = out.view(N, C, H_out, W_out)
    if not return_indices:
        return out
    u, v = arg.div(kW, rounding_mode="floor"), arg % kW
    i = torch.arange(H_out).repeat_interleave(W_out)
    j = torch.arange(W_out).repeat(H_out)
    row = i * sH - pH + u * dH
    col = j * sW - pW + v * dW
    return out, (row * W + col).view(N, C, H_out, W_out)
