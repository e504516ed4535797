"""Visible checks: the sigmoid at a few points and at +-1000, one gradient step from zero on a
4-point dataset, and predict_proba / predict for given weights."""
import math

import torch

from mlkata.checks import Fail, check, describe, expect_close, expect_equal, probe


@probe
def sig(sub, z):
    return {"out": sub.sigmoid(z), "z_after": z}


@probe
def fit_probe(sub, X, y, lr=None, epochs=None, l2=None):
    """``sub.fit``; also ``X`` and ``y`` afterwards.  An option left at None is left out of the call,
    so its default (lr 0.1, epochs 1000, l2 0) is what is checked."""
    options = {k: v for k, v in dict(lr=lr, epochs=epochs, l2=l2).items() if v is not None}
    out = sub.fit(X, y, **options)
    if isinstance(out, (tuple, list)) and len(out) == 2:
        return {"w": out[0], "b": out[1], "X_after": X, "y_after": y}
    return {"w": out, "b": None, "X_after": X, "y_after": y}


@probe
def fit_many(sub, X, y, lr, l2, epochs_list):
    """``fit`` for every number of epochs in ``epochs_list``, in one call."""
    return [fit_probe.fn(sub, X, y, lr, e, l2) for e in epochs_list]


@probe
def predictions(sub, X, w, b):
    return {"proba": sub.predict_proba(X, w, b), "labels": sub.predict(X, w, b)}


def weights(got, d, what, rule="fit returns (w, b): w of shape (d,), b a 0-dim tensor"):
    """Judge side: ``(w, b)`` of a fit, with w of shape (d,) and b a scalar, as float64 tensors."""
    w, b = got["w"], got["b"]
    if not isinstance(w, torch.Tensor) or tuple(w.shape) != (d,):
        raise Fail(rule, f"{what}: expected w of shape [{d}], your code returned {describe(w)}")
    if isinstance(b, torch.Tensor) and b.numel() == 1:
        b = b.reshape(())
    elif isinstance(b, (int, float)) and not isinstance(b, bool):
        b = torch.tensor(float(b))
    else:
        raise Fail(rule, f"{what}: expected b to be a 0-dim tensor, your code returned {describe(b)}")
    return w.double(), b.double()


def ref_sigmoid(v: float) -> float:
    return 1 / (1 + math.exp(-v)) if v >= 0 else math.exp(v) / (1 + math.exp(v))


@check("sigmoid(0) = 0.5, sigmoid(2) = 1 / (1 + e^-2), sigmoid(-2) = 1 - sigmoid(2)")
def sigmoid_values(run):
    z = torch.tensor([0.0, 2.0, -2.0], dtype=torch.float64)
    got = run(sig, z)["out"]
    expect_close(got, torch.tensor([ref_sigmoid(v) for v in (0.0, 2.0, -2.0)], dtype=torch.float64),
                 "sigmoid(z) = 1 / (1 + exp(-z)), elementwise", rtol=1e-12, atol=0, what="sigmoid([0, 2, -2])")


@check("sigmoid(+-1000) in float32 is 1 and 0, never nan; sigmoid(-80) is 1.8e-35, not 0")
def sigmoid_extremes(run):
    got = run(sig, torch.tensor([1000.0, -1000.0, 80.0, -80.0]))["out"]
    rule = ("a stable sigmoid evaluates exp only at -|z|: exp(1000) overflows to inf, so exp(z) / (1 + exp(z)) "
            "is inf / inf = nan, and 1 - 1 / (1 + exp(z)) rounds sigmoid(-80) to 0; use e / (1 + e), e = exp(z), "
            "for z < 0")
    if not isinstance(got, torch.Tensor) or not torch.isfinite(got).all():
        shown = got.tolist() if isinstance(got, torch.Tensor) else describe(got)
        raise Fail(rule, f"sigmoid([1000, -1000, 80, -80]) gave {shown}")
    expect_close(got, torch.tensor([1.0, 0.0, 1.0, ref_sigmoid(-80.0)]), rule, rtol=1e-5, atol=0,
                 what="sigmoid([1000, -1000, 80, -80])")


X4 = torch.tensor([[1.0, 2.0], [-1.0, 0.5], [2.0, -1.0], [0.0, 1.0]], dtype=torch.float64)
Y4 = torch.tensor([1, 0, 1, 0])


@check("one step from w = 0, b = 0: w = -lr * X^T (0.5 - y) / n, b = -lr * mean(0.5 - y)")
def one_step(run):
    got = weights(run(fit_probe, X4, Y4, 0.5, 1), 2, "fit(X (4, 2), y, lr=0.5, epochs=1)")
    r = 0.5 - Y4.double()                                  # p - y at w = 0, b = 0
    expect_close(got[0], -0.5 * X4.T @ r / 4, "the gradient of the mean log loss is X^T (p - y) / n (mean, not "
                 "sum); the step is w -= lr * gradient", rtol=1e-12, atol=1e-15, what="w after one step")
    expect_close(got[1], float(-0.5 * r.mean()), "the bias gradient is mean(p - y)", rtol=1e-12, atol=1e-15,
                 what="b after one step")


@check("predict_proba = sigmoid(X w + b); predict is 1 only where X w + b > 0 (a tie at 0 is class 0)")
def predict_rule(run):
    w, b = torch.tensor([1.0, -2.0], dtype=torch.float64), torch.tensor(0.5, dtype=torch.float64)
    X = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.5, 1.0], [0.5, 0.5]], dtype=torch.float64)   # z = 1.5, -1.5, 0, 0
    got = run(predictions, X, w, b)
    z = X @ w + b
    expect_close(got["proba"], torch.tensor([ref_sigmoid(float(v)) for v in z], dtype=torch.float64),
                 "predict_proba(X, w, b) = sigmoid(X w + b)", rtol=1e-12, atol=0, what="predict_proba")
    expect_equal(got["labels"], torch.tensor([1, 0, 0, 0]), "predict is 1 where X w + b > 0 strictly "
                 "(probability above 1/2); rows with X w + b == 0 are class 0", what="predict (z = 1.5, -1.5, 0, 0)")
