"""Visible checks: the objective and subgradient on four points (one exactly on the margin), three
Pegasos iterations, and predict's sign rule."""
import torch

from mlkata.checks import Fail, check, describe, expect_close, expect_equal, expect_tensor, probe


@probe
def subgradient(sub, w, b, X, y, lam):
    return {"out": sub.hinge_subgradient(w, b, X, y, lam), "after": [w, X, y]}


@probe
def fit(sub, X, y, lam, iterations):
    return {"out": sub.fit_linear_svm(X, y, lam, iterations), "after": [X, y]}


def objective_oracle(w, b, X, y, lam):
    m = y.double() * (X.double() @ w.double() + b)
    return 0.5 * lam * float(w.double() @ w.double()) + float(torch.clamp(1 - m, min=0).mean())


def subgradient_oracle(w, b, X, y, lam):
    X, y, w = X.double(), y.double(), w.double()
    active = (y * (X @ w + b) < 1).double()
    return lam * w - (active * y) @ X / X.shape[0], -float((active * y).sum()) / X.shape[0]


def fit_oracle(X, y, lam, iterations):
    w, b = torch.zeros(X.shape[1], dtype=torch.float64), 0.0
    for t in range(1, iterations + 1):
        gw, gb = subgradient_oracle(w, b, X, y, lam)
        w, b = w - gw / (lam * t), b - gb / (lam * t)
    return w, b


SUBGRAD_RULES = ("dJ/dw = lam w - (1/n) sum over points with margin < 1 of y_i x_i (a margin of exactly 1 "
                 "contributes 0)", "dJ/db = -(1/n) sum over points with margin < 1 of y_i (the bias is not "
                 "regularised)")


def expect_subgradient(got, w, b, X, y, lam, what, rtol=1e-6, atol=1e-8):
    out = got["out"]
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise Fail("hinge_subgradient returns (dJ/dw, dJ/db)", f"{what}: your code returned {describe(out)}")
    want_w, want_b = subgradient_oracle(w, b, X, y, lam)
    expect_tensor(out[0], "dJ/dw has w's shape and X's dtype", shape=w.shape, dtype=X.dtype)
    expect_close(out[0], want_w, SUBGRAD_RULES[0], rtol=rtol, atol=atol, what=f"dJ/dw ({what})")
    expect_close(out[1], want_b, SUBGRAD_RULES[1], rtol=rtol, atol=atol, what=f"dJ/db ({what})")


def expect_fit(got, X, y, lam, iterations, what, rtol=1e-6, atol=1e-8):
    out = got["out"]
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise Fail("fit_linear_svm returns (w, b)", f"{what}: your code returned {describe(out)}")
    want_w, want_b = fit_oracle(X, y, lam, iterations)
    rule = ("Pegasos: start at w = 0, b = 0; at t = 1, 2, ... step w -= gw / (lam t), b -= gb / (lam t) with the "
            "subgradient at the current (w, b)")
    expect_tensor(out[0], "w is a (D,) tensor in X's dtype", shape=(X.shape[1],), dtype=X.dtype)
    expect_close(out[0], want_w, rule, rtol=rtol, atol=atol, what=f"w ({what})")
    expect_close(out[1], want_b, rule, rtol=rtol, atol=atol, what=f"b ({what})")


X4 = torch.tensor([[2.0, 0.0], [0.0, 1.0], [-1.0, -1.0], [0.5, -2.0]], dtype=torch.float64)
Y4 = torch.tensor([1.0, 1.0, -1.0, -1.0], dtype=torch.float64)
W = torch.tensor([0.5, 0.5], dtype=torch.float64)      # margins: 1 (exactly), 0.5, 1, 0.75


@check("hinge_objective on 4 points: lam/2 ||w||^2 plus the mean hinge")
def objective_small(run):
    expect_close(run("hinge_objective", W, 0.0, X4, Y4, 0.1), objective_oracle(W, 0.0, X4, Y4, 0.1),
                 "J = lam / 2 * ||w||^2 + mean over points of max(0, 1 - y (w . x + b))", what="objective")


@check("hinge_subgradient on the same points (two margins exactly 1 contribute nothing)")
def subgradient_small(run):
    expect_subgradient(run(subgradient, W, 0.0, X4, Y4, 0.1), W, 0.0, X4, Y4, 0.1, "4 points")


@check("fit_linear_svm: three Pegasos iterations from zero")
def fit_three(run):
    expect_fit(run(fit, X4, Y4, 0.5, 3), X4, Y4, 0.5, 3, "3 iterations, lam = 0.5")


@check("predict: +1 where w . x + b >= 0 (a score of exactly 0 is +1), else -1")
def predict_signs(run):
    X = torch.tensor([[1.0, 1.0], [-1.0, 1.0], [-2.0, -1.0]], dtype=torch.float64)
    expect_equal(run("predict", torch.tensor([1.0, 1.0], dtype=torch.float64), 0.0, X), torch.tensor([1, 1, -1]),
                 "the sign of w . x + b, with 0 mapped to +1", what="predict")
