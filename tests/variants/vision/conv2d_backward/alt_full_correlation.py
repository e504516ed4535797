# CORRECT, written differently: the textbook derivation. dweight from unfold (im2col) and one einsum;
# dx as a FULL correlation of the stride-dilated grad_out with the flipped, dilated kernel (zero
# insertion between output pixels, kernel taps spread by the dilation), then zero-padded at the
# bottom/right up to the padded input size and cropped -- no loop over kernel offsets.
import torch
import torch.nn.functional as F


def _pair(v):
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))


def conv2d_grad_bias(grad_out):
    return torch.einsum("nohw->o", grad_out)


def conv2d_grad_weight(x, weight_size, grad_out, stride=1, padding=0, dilation=1):
    C_out, C_in, kH, kW = weight_size
    cols = F.unfold(x, (kH, kW), dilation=dilation, padding=padding, stride=stride)   # (N, C_in*kH*kW, L)
    g = grad_out.reshape(grad_out.shape[0], C_out, -1)                                # (N, C_out, L)
    return torch.einsum("nol,nkl->ok", g, cols).reshape(C_out, C_in, kH, kW)


def conv2d_grad_input(input_size, weight, grad_out, stride=1, padding=0, dilation=1):
    (sH, sW), (pH, pW), (dH, dW) = _pair(stride), _pair(padding), _pair(dilation)
    N, C_in, H, W = input_size
    C_out, _, kH, kW = weight.shape
    H_out, W_out = grad_out.shape[2:]
    eH, eW = dH * (kH - 1) + 1, dW * (kW - 1) + 1                     # dilated kernel size
    spread = grad_out.new_zeros(N, C_out, (H_out - 1) * sH + 1, (W_out - 1) * sW + 1)
    spread[:, :, ::sH, ::sW] = grad_out                               # zero insertion for the stride
    k = weight.new_zeros(C_out, C_in, eH, eW)
    k[:, :, ::dH, ::dW] = weight
    k = k.flip(2, 3)
    full = F.pad(spread, (eW - 1, eW - 1, eH - 1, eH - 1))
    cols = F.unfold(full, (eH, eW))                                   # (N, C_out*eH*eW, Hc*Wc)
    Hc, Wc = spread.shape[2] + eH - 1, spread.shape[3] + eW - 1
    covered = torch.einsum("ck,nkl->ncl", k.transpose(0, 1).reshape(C_in, -1), cols).reshape(N, C_in, Hc, Wc)
    padded = F.pad(covered, (0, W + 2 * pW - Wc, 0, H + 2 * pH - Hc))  # rows no window read: zeros
    return padded[:, :, pH:pH + H, pW:pW + W]


def conv2d_backward(x, weight, grad_out, stride=1, padding=0, dilation=1):
    return (conv2d_grad_input(x.shape, weight, grad_out, stride, padding, dilation),
            conv2d_grad_weight(x, weight.shape, grad_out, stride, padding, dilation),
            conv2d_grad_bias(grad_out))
