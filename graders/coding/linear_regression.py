"""Hidden graders of coding/linear_regression: the closed form against numpy.linalg.lstsq on
[X, 1] (float64) and against the ridge closed form with an unpenalised intercept (both are
scikit-learn's LinearRegression / Ridge(alpha=n * l2) solutions: tests/test_twins_coding_linear_regression.py),
ridge with fewer rows than features, exact interpolation, features far from zero (where the
uncentred normal equations lose their digits), float32; gradient descent's exact trajectory, its
penalty, its convergence to the closed form, monotone decrease of J; untouched inputs; predict."""
import numpy as np
import torch

from mlkata.checks import Fail, check, describe, expect, expect_close, visible_module

V = visible_module("coding/linear_regression")

F64 = torch.float64


# --------------------------------------------------------------------------------------------
# Oracles (float64, numpy)
# --------------------------------------------------------------------------------------------

def lstsq_oracle(X, y):
    """OLS with an intercept: numpy.linalg.lstsq (SVD) on [X, 1], in float64."""
    Xn, yn = X.double().numpy(), y.double().numpy()
    A = np.hstack([Xn, np.ones((Xn.shape[0], 1))])
    theta = np.linalg.lstsq(A, yn, rcond=None)[0]
    return torch.from_numpy(theta[:-1].copy()), float(theta[-1])


def ridge_oracle(X, y, l2):
    """argmin (1/(2n)) ||X w + b - y||^2 + (l2/2) ||w||^2, float64: centre, then solve (Xc^T Xc + n l2 I) w = Xc^T yc.
    For l2 = 0 it is numpy.linalg.lstsq on the centred data (SVD: stable for features far from zero)."""
    Xn, yn = X.double().numpy(), y.double().numpy()
    n, d = Xn.shape
    xm, ym = Xn.mean(axis=0), yn.mean()
    Xc, yc = Xn - xm, yn - ym
    if l2 == 0:
        w = np.linalg.lstsq(Xc, yc, rcond=None)[0]
    else:
        w = np.linalg.solve(Xc.T @ Xc + n * l2 * np.eye(d), Xc.T @ yc)
    return torch.from_numpy(np.ascontiguousarray(w)), float(ym - xm @ w)


def gd_oracle(X, y, lr, epochs, l2, dtype=F64):
    """The contract's gradient descent, written independently, in ``dtype``."""
    X, y = X.to(dtype), y.to(dtype)
    n, d = X.shape
    w, b = torch.zeros(d, dtype=dtype), torch.zeros((), dtype=dtype)
    for _ in range(epochs):
        r = torch.addmv(b - y, X, w)
        w, b = w - lr * (torch.mv(X.T, r) / n + l2 * w), b - lr * r.sum() / n
    return w, b


def objective(X, y, w, b, l2):
    r = X.double() @ w.double() + b.double() - y.double()
    return float((r ** 2).mean() / 2 + 0.5 * l2 * (w.double() ** 2).sum())


def dataset(seed, n=None, d=None, scale=1.0, offset=0.0, noise=0.3, dtype=F64):
    """Random (X, y): X ~ offset + scale * N(0, 1), y = X w* + b* + noise * N(0, 1)."""
    g = torch.Generator().manual_seed(seed)
    d = d or int(torch.randint(1, 6, (), generator=g))
    n = n or int(torch.randint(d + 3, 60, (), generator=g))
    X = torch.randn(n, d, generator=g, dtype=F64) * scale + offset
    w_true = torch.randn(d, generator=g, dtype=F64)
    b_true = float(torch.randn((), generator=g, dtype=F64) * 3)
    y = X @ w_true + b_true + noise * torch.randn(n, generator=g, dtype=F64)
    return X.to(dtype), y.to(dtype)


def expect_fit(got, want, rule, what, rtol=1e-8, atol=1e-10):
    w, b = V.weights(got, want[0].numel(), what)
    expect_close(w, want[0], rule, rtol=rtol, atol=atol, what=f"w ({what})")
    expect_close(b, float(want[1]), rule, rtol=rtol, atol=atol, what=f"b ({what})")
    return w, b


# --------------------------------------------------------------------------------------------
# fit_closed_form
# --------------------------------------------------------------------------------------------

@check("closed form with l2 = 0 agrees with numpy.linalg.lstsq on [X, 1] (= sklearn LinearRegression)", points=2)
def agrees_with_lstsq(run):
    for seed in range(8):
        X, y = dataset(seed)
        got = run(V.closed, X, y, 0.0)
        expect_fit(got, lstsq_oracle(X, y), "with l2 = 0 the fit is ordinary least squares with an intercept: "
                   "the (w, b) minimising ||X w + b - y||^2", f"n={X.shape[0]}, d={X.shape[1]}, seed {seed}")


@check("ridge: agrees with the closed form (Xc^T Xc + n * l2 * I) w = Xc^T yc, b unpenalised (= sklearn Ridge(alpha=n * l2))",
       points=2)
def ridge_agrees(run):
    for k, l2 in enumerate((0.01, 0.3, 2.0, 25.0)):
        X, y = dataset(100 + k, scale=2.0, offset=1.5)
        got = run(V.closed, X, y, l2)
        expect_fit(got, ridge_oracle(X, y, l2), "the penalty (l2 / 2) ||w||^2 with J averaging the squared error "
                   "adds n * l2 (not l2) to the centred normal equations, and never touches the intercept",
                   f"l2={l2}, n={X.shape[0]}, d={X.shape[1]}")


@check("ridge works with fewer rows than features (n = 4, d = 10) and with a single row (w = 0, b = y)")
def ridge_underdetermined(run):
    X, y = dataset(200, n=4, d=10)
    got = run(V.closed, X, y, 0.1)
    expect_fit(got, ridge_oracle(X, y, 0.1), "with l2 > 0 the system is positive definite for any n: a fit with "
               "n < d must still return the unique ridge minimiser", "n=4, d=10, l2=0.1")
    X1 = torch.tensor([[1.0, -2.0, 0.5]], dtype=F64)
    got = run(V.closed, X1, torch.tensor([4.0], dtype=F64), 0.5)
    expect_fit(got, (torch.zeros(3, dtype=F64), 4.0), "with one row the centred X is 0, so ridge gives w = 0 and "
               "b = mean(y): the penalty must not reach the intercept", "n=1, d=3, l2=0.5")


@check("exact data is fitted exactly: a square system (n = d + 1) and noise-free targets")
def exact_fit(run):
    for k, (n, d) in enumerate(((4, 3), (7, 6), (30, 5))):
        X, _ = dataset(300 + k, n=n, d=d)
        g = torch.Generator().manual_seed(310 + k)
        w_true, b_true = torch.randn(d, generator=g, dtype=F64), -1.75
        got = run(V.closed, X, X @ w_true + b_true, 0.0)
        expect_fit(got, (w_true, b_true), "when y = X w* + b* exactly and [X, 1] has full column rank, "
                   "least squares returns w*, b*", f"noise-free targets, n={n}, d={d}", rtol=1e-7, atol=1e-8)


@check("features far from zero (around 1e5, like timestamps or prices) keep w and b accurate", points=2)
def far_from_zero(run):
    for k, (offset, scale) in enumerate(((1e5, 1.0), (-3e5, 5.0), (1e5, 0.5))):
        X, y = dataset(400 + k, n=50, d=3, offset=offset, scale=scale)
        got = run(V.closed, X, y, 0.0 if k < 2 else 0.2)
        w, b = V.weights(got, 3, f"features around {offset:g}")
        if not (torch.isfinite(w).all() and torch.isfinite(b)):
            raise Fail("the fit must stay finite for features far from zero",
                       f"features around {offset:g}: w = {w.tolist()}, b = {b.item()}")
        expect_fit(got, ridge_oracle(X, y, 0.0 if k < 2 else 0.2),
                   "solve stably: the uncentred normal equations [X, 1]^T [X, 1] square the condition number, and a "
                   "feature around 1e5 is nearly parallel to the column of ones -- centre X and y first, or use QR",
                   f"features around {offset:g} with spread {scale:g}", rtol=1e-7, atol=1e-9)


@check("features on very different scales (1e-3 to 1e3) are fitted accurately")
def mixed_scales(run):
    X, y = dataset(450, n=60, d=3)
    X = X * torch.tensor([1e-3, 1.0, 1e3], dtype=F64)
    got = run(V.closed, X, y, 0.0)
    expect_fit(got, ridge_oracle(X, y, 0.0), "least squares is exact for any column scaling: w scales inversely "
               "with its feature", "feature scales 1e-3, 1, 1e3", rtol=1e-7, atol=1e-9)


@check("float32 data: w and b are float32 and agree with the float64 solution to float32 accuracy; "
       "float32 targets with float64 X are computed in float64")
def closed_float32(run):
    X, y = dataset(500, n=80, d=4, dtype=torch.float32)
    for l2 in (0.0, 0.1):
        got = run(V.closed, X, y, l2)
        for key in ("w", "b"):
            t = got[key]
            expect(isinstance(t, torch.Tensor) and t.dtype == torch.float32, "fit_closed_form computes in X's "
                   "dtype and returns w and b in it (float32 here)", f"{key} is {describe(t)}")
        expect_fit(got, ridge_oracle(X, y, l2), "the closed form on float32 data is accurate to float32 precision",
                   f"float32 X and y, l2={l2}", rtol=1e-4, atol=1e-4)
    X64, y32 = dataset(501, n=40, d=3)[0], dataset(501, n=40, d=3, dtype=torch.float32)[1]
    got = run(V.closed, X64, y32, 0.0)
    expect(isinstance(got["w"], torch.Tensor) and got["w"].dtype == F64, "y is converted to X's dtype "
           "(float64 here) and w comes back in it", f"w is {describe(got['w'])}")
    expect_fit(got, ridge_oracle(X64, y32, 0.0), "y is converted to X's dtype before solving",
               "float64 X, float32 y")


@check("neither fit modifies X or y (no centring in place)")
def inputs_untouched(run):
    X, y = dataset(600, n=20, d=3, offset=2.0)
    for label, got, want in (("fit_closed_form", run(V.closed, X, y, 0.5), ridge_oracle(X, y, 0.5)),
                             ("fit_gd", run(V.gd, X, y, 0.1, 5, 0.5), gd_oracle(X, y, 0.1, 5, 0.5))):
        expect_fit(got, want, f"{label} minimises (1/(2n)) ||X w + b - y||^2 + (l2/2) ||w||^2 as the contract says",
                   f"{label} with l2 = 0.5")
        expect_close(got["X_after"], X, f"{label} must not modify X (X -= X.mean(0) changes the caller's data)",
                     rtol=0, atol=0, what=f"X after {label}")
        expect_close(got["y_after"], y, f"{label} must not modify y", rtol=0, atol=0, what=f"y after {label}")


# --------------------------------------------------------------------------------------------
# fit_gd
# --------------------------------------------------------------------------------------------

@check("fit_gd follows the gradient-descent trajectory exactly: 1, 3 and 25 steps on random data", points=2)
def trajectory(run):
    for k, (epochs, lr) in enumerate(((1, 0.3), (3, 0.1), (25, 0.2), (25, 0.05), (3, 0.5))):
        X, y = dataset(700 + k)
        got = run(V.gd, X, y, lr, epochs, 0.0)
        expect_fit(got, gd_oracle(X, y, lr, epochs, 0.0), "every step moves w by -lr * X^T r / n and b by "
                   "-lr * mean(r), r = X w + b - y, both computed at the same (w, b), starting from zeros",
                   f"n={X.shape[0]}, d={X.shape[1]}, lr={lr}, epochs={epochs}", rtol=1e-9, atol=1e-12)


@check("fit_gd: the ridge penalty adds l2 * w to the weight gradient and leaves the bias alone", points=2)
def gd_l2(run):
    for k, (l2, offset) in enumerate(((0.5, 2.0), (1.0, -1.0), (0.05, 0.0))):
        X, y = dataset(800 + k, n=40, d=3, offset=offset)
        got = run(V.gd, X, y, 0.1, 30, l2)
        expect_fit(got, gd_oracle(X, y, 0.1, 30, l2), "the penalty is (l2 / 2) ||w||^2, so its gradient is l2 * w "
                   "(not 2 * l2 * w, not l2 * w / n); the bias is not penalised",
                   f"l2={l2}, 30 epochs", rtol=1e-9, atol=1e-12)


@check("fit_gd converges to the closed-form minimiser on well-conditioned data (with and without ridge)", points=2)
def gd_converges(run):
    for k, l2 in enumerate((0.0, 0.1)):
        X, y = dataset(900 + k, n=200, d=4)
        got = run(V.gd, X, y, 0.5, 400, l2)
        expect_fit(got, ridge_oracle(X, y, l2), "gradient descent on the convex J converges to its unique "
                   "minimiser, the closed-form solution", f"l2={l2}, 400 epochs, lr=0.5", rtol=1e-7, atol=1e-8)


@check("J never increases from one epoch to the next (small lr), and epochs=0 returns zeros")
def monotone(run):
    X, y = dataset(1000, n=50, d=3, offset=1.0)
    l2 = 0.05
    epochs = list(range(0, 13))
    got = run(V.gd_many, X, y, 0.2, l2, epochs)
    w0, b0 = V.weights(got[0], 3, "fit_gd(..., epochs=0)")
    expect_close(w0, torch.zeros(3, dtype=F64), "with epochs=0 fit_gd returns the starting point w = 0",
                 what="w after 0 epochs")
    expect_close(b0, 0.0, "with epochs=0 fit_gd returns the starting point b = 0", what="b after 0 epochs")
    expect_fit(got[-1], gd_oracle(X, y, 0.2, epochs[-1], l2), "fit_gd runs full-batch gradient descent from w = 0, "
               "b = 0", f"fit_gd(..., epochs={epochs[-1]})")
    values = [objective(X, y, *V.weights(r, 3, f"fit_gd(..., epochs={e})"), l2) for e, r in zip(epochs, got)]
    for e in range(1, len(values)):
        expect(values[e] <= values[e - 1] + 1e-12, "each gradient step with a small lr lowers J = (1/(2n)) "
               "||X w + b - y||^2 + (l2/2) ||w||^2: a rising J means a wrong sign or a wrong gradient",
               f"J after {e - 1} epochs = {values[e - 1]:.10g}, after {e} epochs = {values[e]:.10g}")


@check("the defaults: fit_closed_form and fit_gd have no L2 penalty; fit_gd runs 1000 epochs with lr 0.1")
def fit_defaults(run):
    X, y = dataset(650, n=30, d=3, noise=1.0)
    expect_fit(run(V.closed, X, y), lstsq_oracle(X, y), "fit_closed_form(X, y) is ordinary least squares (l2 = 0) "
               "by default", "fit_closed_form(X, y)")
    X, y = dataset(651, n=30, d=3, scale=0.1)          # small features: 1000 steps do not reach the optimum
    expect_fit(run(V.gd, X, y), gd_oracle(X, y, 0.1, 1000, 0.0), "fit_gd(X, y) runs 1000 epochs with lr 0.1 and no "
               "penalty by default", "fit_gd(X, y) on features of scale 0.1", rtol=1e-7, atol=1e-9)


@check("fit_gd on float32 data returns float32 and follows the same trajectory")
def gd_float32(run):
    X, y = dataset(1100, n=60, d=4, dtype=torch.float32)
    got = run(V.gd, X, y, 0.2, 40, 0.1)
    for key in ("w", "b"):
        t = got[key]
        expect(isinstance(t, torch.Tensor) and t.dtype == torch.float32, "fit_gd computes in X's dtype and returns "
               "w and b in it (float32 here)", f"{key} is {describe(t)}")
    expect_fit(got, gd_oracle(X, y, 0.2, 40, 0.1), "fit_gd on float32 data follows the same trajectory",
               "float32 X, 40 epochs", rtol=1e-4, atol=1e-5)


# --------------------------------------------------------------------------------------------
# predict
# --------------------------------------------------------------------------------------------

@check("predict = X w + b on random data, X's dtype")
def predictions(run):
    g = torch.Generator().manual_seed(1200)
    for dtype in (F64, torch.float32):
        X = torch.randn(30, 5, generator=g, dtype=F64).to(dtype)
        w, b = torch.randn(5, generator=g, dtype=F64).to(dtype), torch.tensor(-0.7, dtype=dtype)
        got = run(V.pred, X, w, b)
        expect_close(got, X @ w + b, "predict(X, w, b) = X w + b, shape (n,), in X's dtype", check_dtype=True,
                     rtol=1e-6, atol=1e-6, what=f"predict ({dtype})")
