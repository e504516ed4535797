"""Library twin of fundamentals/micrograd: the reference Value computes the same values and the same
gradients (of every node, intermediate ones included) as torch.autograd in float64 on random
expression graphs from the grader's generator, and the grader's torch oracle is itself checked
against hand-derived derivatives; fit_line matches torch.optim.SGD on the same mean squared error."""
import math
from pathlib import Path

import pytest
import torch

from mlkata.engine import load_module

ROOT = Path(__file__).resolve().parent.parent
REF = load_module(str(ROOT / "solutions" / "fundamentals" / "micrograd.py"), "_twin_ref_micrograd")
GRADER = load_module(str(ROOT / "graders" / "fundamentals" / "micrograd.py"), "_twin_grader_micrograd")
V = GRADER.V


class _Sub:
    Value = REF.Value


def run_reference(program):
    return V.evaluate.fn(_Sub, program)


@pytest.mark.parametrize("seed", range(12))
def test_reference_matches_torch_autograd_on_random_graphs(seed):
    program = GRADER.random_program(1000 + seed, 2 + seed % 4, 40, GRADER.NONLINEAR)
    got = run_reference(program)
    data, grad = V.oracle(program)
    assert got["data"] == pytest.approx(data, rel=1e-10, abs=1e-12)
    assert got["grad"] == pytest.approx(grad, rel=1e-9, abs=1e-12)


def test_layered_graphs_match_torch():
    for width, depth in ((3, 6), (5, 7)):
        program = GRADER.layered(width, depth, 0)
        assert run_reference(program)["grad"] == pytest.approx(V.oracle(program)[1], rel=1e-10, abs=1e-12)


def test_torch_oracle_matches_derivatives_by_hand():
    x = 0.7
    program = [("leaf", x), ("tanh", 0), ("exp", 0), ("mul", 1, 2), ("log", 2), ("add", 3, 4)]
    # d/dx [tanh(x) e^x + x] = (1 - tanh^2) e^x + tanh e^x + 1
    t = math.tanh(x)
    assert V.oracle(program)[1][0] == pytest.approx((1 - t * t) * math.exp(x) + t * math.exp(x) + 1, rel=1e-12)


def test_fit_line_matches_torch_sgd():
    xs, ys = [0.0, 1.0, 2.5, -1.0], [1.0, 2.5, 6.0, -0.5]
    w = torch.zeros((), dtype=torch.float64, requires_grad=True)
    b = torch.zeros((), dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([w, b], lr=0.07)
    X, Y = torch.tensor(xs, dtype=torch.float64), torch.tensor(ys, dtype=torch.float64)
    losses = []
    for _ in range(25):
        opt.zero_grad()
        loss = ((w * X + b - Y) ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    got_w, got_b, got_losses = REF.fit_line(xs, ys, 25, 0.07)
    assert got_losses == pytest.approx(losses, rel=1e-10)
    assert (got_w, got_b) == pytest.approx((w.item(), b.item()), rel=1e-10)
    assert V.fit_oracle(xs, ys, 25, 0.07)[2] == pytest.approx(losses, rel=1e-10)
