"""Visible checks: each cell against torch's on one small batch, an LSTM whose gates you can set
by hand through its biases, and a short sequence against torch.nn.LSTM."""
import math

import torch

from mlkata.checks import check, expect_close, probe


def torch_lstm_cell(I, H, seed, bias=True, dtype=torch.float32):
    torch.random.default_generator.manual_seed(seed)
    return torch.nn.LSTMCell(I, H, bias=bias, dtype=dtype)


def torch_gru_cell(I, H, seed, bias=True, dtype=torch.float32):
    torch.random.default_generator.manual_seed(seed)
    return torch.nn.GRUCell(I, H, bias=bias, dtype=dtype)


def params(module):
    return [module.weight_ih.detach(), module.weight_hh.detach(),
            None if module.bias_ih is None else module.bias_ih.detach(),
            None if module.bias_hh is None else module.bias_hh.detach()]


@probe
def lstm_step(sub, x, h, c, p):
    return sub.lstm_cell(x, h, c, *p)


@probe
def gru_step(sub, x, h, p):
    return sub.gru_cell(x, h, *p)


def inputs(seed, B, I, H):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(B, I, generator=g), torch.randn(B, H, generator=g), torch.randn(B, H, generator=g)


@check("lstm_cell agrees with torch.nn.LSTMCell holding the same weights")
def lstm_matches(run):
    cell = torch_lstm_cell(3, 4, seed=0)
    x, h, c = inputs(1, 2, 3, 4)
    got = run(lstm_step, x, h, c, params(cell))
    want_h, want_c = cell(x, (h, c))
    expect_close(got, [want_h.detach(), want_c.detach()], "gates = x W_ih^T + b_ih + h W_hh^T + b_hh in the order "
                 "i, f, g, o; c' = f c + i g; h' = o tanh(c')", what="(h', c')")


@check("gates by hand: forget gate open, input gate shut -> the cell state is carried unchanged")
def carry_by_hand(run):
    H = 2
    w_ih, w_hh = torch.zeros(4 * H, 1), torch.zeros(4 * H, H)
    b = torch.tensor([-30.0, -30.0, 30.0, 30.0, 0.0, 0.0, 30.0, 30.0])      # i shut, f open, g = 0, o open
    c = torch.tensor([[0.5, -2.0]])
    got = run(lstm_step, torch.ones(1, 1), torch.zeros(1, H), c, [w_ih, w_hh, b, torch.zeros(4 * H)])
    expect_close(got, [torch.tanh(c), c], "the bias blocks are i, f, g, o: f = 1 and i = 0 keep c' = c, and o = 1 "
                 "gives h' = tanh(c)", rtol=1e-5, atol=1e-6, what="(h', c') with i = 0, f = 1, o = 1")


@check("gru_cell agrees with torch.nn.GRUCell holding the same weights")
def gru_matches(run):
    cell = torch_gru_cell(3, 4, seed=2)
    x, h, _ = inputs(3, 2, 3, 4)
    got = run(gru_step, x, h, params(cell))
    expect_close(got, cell(x, h).detach(), "blocks r, z, n; n = tanh(a_n + r * (W_hn h + b_hn)); "
                 "h' = (1 - z) n + z h", what="h'")


@check("run_lstm over 5 steps agrees with a one-layer torch.nn.LSTM")
def sequence_matches(run):
    torch.random.default_generator.manual_seed(4)
    lstm = torch.nn.LSTM(3, 4)
    x = torch.randn(5, 2, 3, generator=torch.Generator().manual_seed(5))
    p = [lstm.weight_ih_l0.detach(), lstm.weight_hh_l0.detach(), lstm.bias_ih_l0.detach(), lstm.bias_hh_l0.detach()]
    got = run("run_lstm", x, *p)
    out, (h, c) = lstm(x)
    expect_close(got, [out.detach(), [h[0].detach(), c[0].detach()]], "start from zeros, feed each step's (h, c) "
                 "into the next; outputs stack h of every step", what="(outputs, (h_T, c_T))")
