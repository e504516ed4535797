# CORRECT, written differently: gates through torch.addmm with the biases pre-summed, slices by index arithmetic instead of chunk, torch.lerp for the GRU's interpolation, and run_lstm writing into a list built with a comprehension-free while loop.
import torch


def _gates(x, h, w_ih, w_hh, b_ih, b_hh):
    if b_ih is None:
        return x.matmul(w_ih.t()) + h.matmul(w_hh.t())
    return torch.addmm(b_ih + b_hh, x, w_ih.t()) + h.matmul(w_hh.t())


def lstm_cell(x, h, c, weight_ih, weight_hh, bias_ih=None, bias_hh=None):
    H = h.shape[-1]
    z = _gates(x, h, weight_ih, weight_hh, bias_ih, bias_hh)
    i = z[:, 0:H].sigmoid()
    f = z[:, H:2 * H].sigmoid()
    g = z[:, 2 * H:3 * H].tanh()
    o = z[:, 3 * H:].sigmoid()
    c2 = torch.addcmul(f * c, i, g)
    return o * c2.tanh(), c2


def gru_cell(x, h, weight_ih, weight_hh, bias_ih=None, bias_hh=None):
    H = h.shape[-1]
    a = x @ weight_ih.t() + (0 if bias_ih is None else bias_ih)
    b = h @ weight_hh.t() + (0 if bias_hh is None else bias_hh)
    r = torch.sigmoid(a[:, :H] + b[:, :H])
    z = torch.sigmoid(a[:, H:2 * H] + b[:, H:2 * H])
    n = torch.tanh(a[:, 2 * H:] + r * b[:, 2 * H:])
    return torch.lerp(n, h, z)                 # n + z (h - n) = (1 - z) n + z h


def run_lstm(x, weight_ih, weight_hh, bias_ih=None, bias_hh=None, state=None):
    H = weight_hh.shape[1]
    h, c = state if state is not None else (x.new_zeros(x.shape[1], H), x.new_zeros(x.shape[1], H))
    outs, t = [], 0
    while t < x.shape[0]:
        h, c = lstm_cell(x[t], h, c, weight_ih, weight_hh, bias_ih, bias_hh)
        outs.append(h)
        t += 1
    return torch.stack(outs, 0), (h, c)
