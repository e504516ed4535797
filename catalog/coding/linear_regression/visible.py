"""Visible checks: an exact line, a hand-computed ridge fit, one gradient step from zero, and
predict on a small case."""
import torch

from mlkata.checks import Fail, check, describe, expect_close, probe


@probe
def closed(sub, X, y, l2=None):
    """``sub.fit_closed_form``; also ``X`` and ``y`` afterwards (``l2=None``: its default, 0)."""
    out = sub.fit_closed_form(X, y) if l2 is None else sub.fit_closed_form(X, y, l2)
    return _pack(out, X, y)


@probe
def gd(sub, X, y, lr=None, epochs=None, l2=None):
    """``sub.fit_gd``; also ``X`` and ``y`` afterwards.  An option left at None is left out of the
    call, so its default (lr 0.1, epochs 1000, l2 0) is what is checked."""
    options = {k: v for k, v in dict(lr=lr, epochs=epochs, l2=l2).items() if v is not None}
    out = sub.fit_gd(X, y, **options)
    return _pack(out, X, y)


@probe
def gd_many(sub, X, y, lr, l2, epochs_list):
    """``fit_gd`` for every number of epochs in ``epochs_list``, in one call."""
    return [gd.fn(sub, X, y, lr, e, l2) for e in epochs_list]


@probe
def pred(sub, X, w, b):
    return sub.predict(X, w, b)


def _pack(out, X, y):
    if isinstance(out, (tuple, list)) and len(out) == 2:
        return {"w": out[0], "b": out[1], "X_after": X, "y_after": y}
    return {"w": out, "b": None, "X_after": X, "y_after": y}


def weights(got, d, what, rule="a fit returns (w, b): w of shape (d,), b a 0-dim tensor"):
    """Judge side: ``(w, b)`` of a fit with w of shape (d,) and b a scalar, as float64 tensors."""
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


F64 = torch.float64


@check("closed form recovers an exact line: y = 2x + 1 gives w = [2], b = 1")
def exact_line(run):
    X = torch.tensor([[0.0], [1.0], [2.0], [3.0]], dtype=F64)
    w, b = weights(run(closed, X, 2 * X[:, 0] + 1), 1, "fit_closed_form on y = 2x + 1")
    rule = "fit_closed_form returns the least-squares (w, b); for points exactly on a line that is the line itself"
    expect_close(w, torch.tensor([2.0], dtype=F64), rule, rtol=1e-10, atol=1e-10, what="w")
    expect_close(b, 1.0, rule, rtol=1e-10, atol=1e-10, what="b")


@check("ridge shrinks w but not b: x = [-1, 0, 1], y = [0, 1, 5], l2 = 1 gives w = 1, b = 2 (OLS: w = 2.5)")
def ridge_by_hand(run):
    X = torch.tensor([[-1.0], [0.0], [1.0]], dtype=F64)
    y = torch.tensor([0.0, 1.0, 5.0], dtype=F64)
    # centred: Sxy = 5, Sxx = 2, n * l2 = 3  ->  w = 5 / (2 + 3) = 1,  b = mean(y) - mean(x) * w = 2
    w, b = weights(run(closed, X, y, 1.0), 1, "fit_closed_form(x, y, l2=1)")
    expect_close(w, torch.tensor([1.0], dtype=F64), "J averages the squared error, so the ridge term in the "
                 "centred normal equations is n * l2: w = Sxy / (Sxx + n * l2)", rtol=1e-10, atol=1e-10, what="w")
    expect_close(b, 2.0, "the intercept is not penalised: b = mean(y) - mean(x) . w", rtol=1e-10, atol=1e-10,
                 what="b")


@check("one gradient step from zero: w = lr * X^T y / n, b = lr * mean(y)")
def one_step(run):
    X = torch.tensor([[1.0, 2.0], [-1.0, 0.5], [2.0, -1.0], [0.0, 1.0]], dtype=F64)
    y = torch.tensor([3.0, -1.0, 2.0, 0.5], dtype=F64)
    w, b = weights(run(gd, X, y, 0.1, 1), 2, "fit_gd(X (4, 2), y, lr=0.1, epochs=1)")
    # at w = 0, b = 0 the residual is r = -y
    expect_close(w, 0.1 * X.T @ y / 4, "the weight gradient is X^T r / n with r = X w + b - y (a mean, not a sum, "
                 "and no factor 2); the step is w -= lr * gradient", rtol=1e-12, atol=1e-15, what="w after one step")
    expect_close(b, float(0.1 * y.mean()), "the bias gradient is mean(r)", rtol=1e-12, atol=1e-15,
                 what="b after one step")


@check("predict returns X w + b, shape (n,)")
def predict_rule(run):
    X = torch.tensor([[1.0, 0.0], [0.0, 1.0], [2.0, 3.0]], dtype=F64)
    w, b = torch.tensor([2.0, -1.0], dtype=F64), torch.tensor(0.5, dtype=F64)
    expect_close(run(pred, X, w, b), torch.tensor([2.5, -0.5, 1.5], dtype=F64), "predict(X, w, b) = X w + b",
                 rtol=1e-12, atol=0, what="predict")
