# CORRECT, written differently: no unfold -- pad once, then for each kernel tap (u, v) take the
# strided slice of the padded input it touches and accumulate an einsum over the group's channels.
import torch
import torch.nn.functional as F


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    dh, dw = (dilation, dilation) if isinstance(dilation, int) else dilation
    n, c, h, w = x.shape
    o, cg, kh, kw = weight.shape
    if cg * groups != c or o % groups:
        raise ValueError(f"weight {tuple(weight.shape)} does not match {c} channels in {groups} groups")
    ho = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    wo = (w + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    if min(ho, wo) < 1:
        raise ValueError("the dilated kernel does not fit in the padded input")
    xp = F.pad(x, (pw, pw, ph, ph))
    xg = xp.reshape(n, groups, cg, h + 2 * ph, w + 2 * pw)
    wg = weight.reshape(groups, o // groups, cg, kh, kw)
    out = x.new_zeros(n, groups, o // groups, ho, wo)
    for u in range(kh):
        for v in range(kw):
            r0, c0 = u * dh, v * dw
            tap = xg[:, :, :, r0:r0 + sh * (ho - 1) + 1:sh, c0:c0 + sw * (wo - 1) + 1:sw]
            out = out + torch.einsum("ngchw,goc->ngohw", tap, wg[..., u, v])
    out = out.reshape(n, o, ho, wo)
    return out if bias is None else out + bias[None, :, None, None]
