"""Visible checks: each activation and its derivative on a few hand-computable points."""
import math

import torch

from mlkata.checks import check, expect_close, probe


@probe
def apply(sub, calls, report_inputs=False):
    """Call each ``(function_name, x, kwargs)`` on its own copy of ``x``; report the outputs (and,
    with ``report_inputs``, each copy afterwards, to see whether it was modified)."""
    outs, inputs = [], []
    for name, x, kwargs in calls:
        x = x.clone()
        outs.append(getattr(sub, name)(x, **kwargs))
        inputs.append(x)
    return {"out": outs, "inputs": inputs if report_inputs else None}


SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


@check("leaky_relu(x, 0.1) and its derivative on [-2, -0.5, 0, 1.5, 3]")
def leaky_small(run):
    x = torch.tensor([-2.0, -0.5, 0.0, 1.5, 3.0])
    y, dy = run(apply, [("leaky_relu", x, {"negative_slope": 0.1}), ("leaky_relu_grad", x, {"negative_slope": 0.1})])["out"]
    expect_close(y, torch.tensor([-0.2, -0.05, 0.0, 1.5, 3.0]), "leaky_relu is x for x > 0 and slope * x otherwise",
                 what="leaky_relu(x, 0.1)")
    expect_close(dy, torch.tensor([0.1, 0.1, 0.1, 1.0, 1.0]),
                 "the derivative is 1 for x > 0 and the slope for x <= 0 (x = 0 included)", what="leaky_relu_grad(x, 0.1)")


@check("elu(x) and its derivative on [-1, 0, 2]: e^-1 - 1, 0, 2 and e^-1, 1, 1")
def elu_small(run):
    x = torch.tensor([-1.0, 0.0, 2.0])
    y, dy = run(apply, [("elu", x, {}), ("elu_grad", x, {})])["out"]
    e = math.exp(-1)
    expect_close(y, torch.tensor([e - 1, 0.0, 2.0]), "elu is x for x > 0 and alpha * (exp(x) - 1) otherwise",
                 what="elu(x)")
    expect_close(dy, torch.tensor([e, 1.0, 1.0]), "the derivative of elu is 1 for x > 0 and alpha * exp(x) otherwise",
                 what="elu_grad(x)")


@check("selu(x) and its derivative on [1, -1]")
def selu_small(run):
    x = torch.tensor([1.0, -1.0])
    y, dy = run(apply, [("selu", x, {}), ("selu_grad", x, {})])["out"]
    e = math.exp(-1)
    expect_close(y, torch.tensor([SELU_SCALE, SELU_SCALE * SELU_ALPHA * (e - 1)]),
                 "selu is SELU_SCALE * elu(x, SELU_ALPHA)", what="selu(x)")
    expect_close(dy, torch.tensor([SELU_SCALE, SELU_SCALE * SELU_ALPHA * e]),
                 "the derivative of selu is SELU_SCALE for x > 0 and SELU_SCALE * SELU_ALPHA * exp(x) otherwise",
                 what="selu_grad(x)")


@check("gelu(1) is Phi(1) = 0.841345 (0.841192 with the tanh approximation) and gelu'(0) = 1/2")
def gelu_small(run):
    one, zero = torch.tensor([1.0]), torch.tensor([0.0])
    exact, approx, g0, g0_tanh = run(apply, [("gelu", one, {}), ("gelu", one, {"approximate": "tanh"}),
                                             ("gelu_grad", zero, {}),
                                             ("gelu_grad", zero, {"approximate": "tanh"})])["out"]
    expect_close(exact, torch.tensor([0.8413447]), "gelu(x) = x * Phi(x), Phi(x) = (1 + erf(x / sqrt(2))) / 2",
                 atol=1e-6, what="gelu(1)")
    expect_close(approx, torch.tensor([0.8411920]), "approximate='tanh' uses 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))",
                 atol=1e-6, what="gelu(1, approximate='tanh')")
    expect_close(g0, torch.tensor([0.5]), "gelu'(0) = Phi(0) + 0 * phi(0) = 1/2", what="gelu_grad(0)")
    expect_close(g0_tanh, torch.tensor([0.5]), "the tanh form also has derivative 1/2 at 0", what="gelu_grad(0, 'tanh')")
