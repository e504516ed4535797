# CORRECT, written differently: no unfold -- a running maximum over the kernel taps, each tap a
# strided slice of the -inf padded input, with a parallel tensor remembering where the max came from.
import math

import torch
import torch.nn.functional as F


def _two(v):
    return tuple(v) if isinstance(v, (tuple, list)) else (v, v)


def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    k, p, d = _two(kernel_size), _two(padding), _two(dilation)
    s = _two(stride) if stride is not None else k
    n, c, h, w = x.shape
    if any(2 * p[a] > k[a] for a in (0, 1)):
        raise ValueError("max-pool padding may be at most half the kernel")
    outs = []
    for size, ka, sa, pa, da in zip((h, w), k, s, p, d):
        span = da * (ka - 1) + 1
        rounding = math.ceil if ceil_mode else math.floor
        m = rounding((size + 2 * pa - span) / sa) + 1
        if ceil_mode and (m - 1) * sa - pa >= size:
            m -= 1
        if m <= 0:
            raise ValueError("the window does not fit")
        outs.append(m)
    ho, wo = outs
    need_h = (ho - 1) * s[0] + d[0] * (k[0] - 1) + 1
    need_w = (wo - 1) * s[1] + d[1] * (k[1] - 1) + 1
    pad_b, pad_r = max(p[0], need_h - h - p[0]), max(p[1], need_w - w - p[1])
    xp = F.pad(x, (p[1], pad_r, p[0], pad_b), value=-math.inf)
    rows = torch.arange(ho) * s[0] - p[0]            # first input row of each window
    cols = torch.arange(wo) * s[1] - p[1]
    best, where = None, None
    for u in range(k[0]):
        for v in range(k[1]):
            r0, c0 = u * d[0], v * d[1]
            tap = xp[:, :, r0:r0 + (ho - 1) * s[0] + 1:s[0], c0:c0 + (wo - 1) * s[1] + 1:s[1]]
            pos = ((rows + r0)[:, None] * w + (cols + c0)[None, :]).expand(n, c, ho, wo)
            if best is None:
                best, where = tap, pos
            else:
                better = tap > best
                best = torch.where(better, tap, best)
                where = torch.where(better, pos, where)
    return (best, where.long()) if return_indices else best
