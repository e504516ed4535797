"""fundamentals/lstm_gru: the reference's cells equal torch.nn.LSTMCell and GRUCell (with and
without biases, float32 and float64) and its unrolled LSTM equals a one-layer torch.nn.LSTM,
gradients included; the graders' helpers build those torch modules as the checks assume."""
import pytest
import torch

from mlkata import catalog, grading
from mlkata.engine import load_module
from helpers import ROOT

EX = catalog.get("fundamentals/lstm_gru")


@pytest.fixture(scope="module")
def ref():
    return load_module(str(ROOT / "solutions" / "fundamentals" / "lstm_gru.py"), "twin_ref_lstm_gru")


@pytest.fixture(scope="module")
def grader():
    return grading.check_module("hidden", EX)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("bias", [True, False])
def test_cells_agree_with_torch(ref, grader, seed, bias):
    B, I, H = 1 + seed % 3, 2 + seed, 3 + seed % 4
    for dtype in (torch.float32, torch.float64):
        lstm = grader.V.torch_lstm_cell(I, H, seed, bias=bias, dtype=dtype)
        gru = grader.V.torch_gru_cell(I, H, seed, bias=bias, dtype=dtype)
        x, h, c = (t.to(dtype) for t in grader.V.inputs(seed, B, I, H))
        want_h, want_c = lstm(x, (h, c))
        got_h, got_c = ref.lstm_cell(x, h, c, *grader.V.params(lstm))
        torch.testing.assert_close(got_h, want_h)
        torch.testing.assert_close(got_c, want_c)
        torch.testing.assert_close(ref.gru_cell(x, h, *grader.V.params(gru)), gru(x, h))


@pytest.mark.parametrize("with_state", [False, True])
def test_run_lstm_agrees_with_torch_lstm_and_its_gradients(ref, grader, with_state):
    lstm, p = grader.torch_lstm(3, 5, seed=7)
    x = torch.randn(8, 2, 3, dtype=torch.float64, requires_grad=True)
    state = tuple(torch.randn(2, 5, dtype=torch.float64, requires_grad=True) for _ in range(2)) if with_state else None
    out, (h, c) = lstm(x, None if state is None else (state[0][None], state[1][None]))
    got_out, (got_h, got_c) = ref.run_lstm(x, *p, state=state)
    torch.testing.assert_close(got_out, out)
    torch.testing.assert_close(got_h, h[0])
    torch.testing.assert_close(got_c, c[0])
    g_theirs = torch.autograd.grad(out.sum() + c.sum(), [x] + (list(state) if state else []))
    g_mine = torch.autograd.grad(got_out.sum() + got_c.sum(), [x] + (list(state) if state else []))
    for a, b in zip(g_mine, g_theirs):
        torch.testing.assert_close(a, b)
