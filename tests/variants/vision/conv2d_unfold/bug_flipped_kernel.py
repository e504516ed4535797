# BUG: flips the kernel (textbook convolution) -- deep-learning conv2d is a cross-correlation.
import torch.nn.functional as F


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    (sH, sW), (pH, pW), (dH, dW) = _pair(stride), _pair(padding), _pair(dilation)
    N, C_in, H, W = x.shape
    C_out, C_g, kH, kW = weight.shape
    if C_in != groups * C_g or C_out % groups != 0:
        raise ValueError("weight does not fit the groups")
    H_out = (H + 2 * pH - dH * (kH - 1) - 1) // sH + 1
    W_out = (W + 2 * pW - dW * (kW - 1) - 1) // sW + 1
    if H_out < 1 or W_out < 1:
        raise ValueError("kernel larger than the padded input")
    L = H_out * W_out
    cols = F.unfold(x, (kH, kW), dilation=(dH, dW), padding=(pH, pW), stride=(sH, sW))
    cols = cols.view(N, groups, C_g * kH * kW, L)
    w = weight.flip(-2, -1).reshape(groups, C_out // groups, C_g * kH * kW)
    out = w @ cols
    out = out.reshape(N, C_out, H_out, W_out)
    if bias is not None:
        out = out + bias.view(1, C_out, 1, 1)
    return out
