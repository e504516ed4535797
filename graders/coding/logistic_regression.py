"""Hidden graders of coding/logistic_regression: the stable sigmoid against torch.sigmoid (relative
accuracy in the tails, finiteness at +-1e4), the exact gradient-descent trajectory against the
grader's own float64 loop, the L2 penalty (weights only), convergence to the exact minimiser
found by Newton's method in float64 (tests/test_twins_coding_logistic_regression.py shows it is
scikit-learn's LogisticRegression(C=1/(n*l2)) solution), monotone decrease of the objective,
label dtypes, float32, huge features, predictions and untouched inputs."""
import torch
import torch.nn.functional as F

from mlkata.checks import Fail, check, describe, expect, expect_close, expect_equal, visible_module

V = visible_module("coding/logistic_regression")

STABLE = ("a stable sigmoid evaluates exp only at -|z| (1 / (1 + e) for z >= 0, e / (1 + e) for z < 0, "
          "e = exp(-|z|)): exp(z) / (1 + exp(z)) is nan for large z, 1 - 1 / (1 + exp(z)) rounds tiny values to 0")


# --------------------------------------------------------------------------------------------
# Oracles (float64 unless told otherwise)
# --------------------------------------------------------------------------------------------

def gd_oracle(X, y, lr, epochs, l2, dtype=torch.float64):
    """The contract's gradient descent, written independently, in ``dtype``."""
    X, y = X.to(dtype), y.to(dtype)
    n, d = X.shape
    w, b = torch.zeros(d, dtype=dtype), torch.zeros((), dtype=dtype)
    for _ in range(epochs):
        r = torch.sigmoid(X @ w + b) - y
        w, b = w - lr * (X.T @ r / n + l2 * w), b - lr * r.mean()
    return w, b


def objective(X, y, w, b, l2):
    """J(w, b) = mean log loss + (l2 / 2) ||w||^2, stably: log(1 + e^z) - y z."""
    z = X.double() @ w.double() + b.double()
    return float((F.softplus(z) - y.double() * z).mean() + 0.5 * l2 * (w.double() ** 2).sum())


def newton_oracle(X, y, l2, iters=60):
    """The exact minimiser of J (float64) by Newton's method on theta = (w, b); the bias is not penalised."""
    X, y = X.double(), y.double()
    n, d = X.shape
    A = torch.cat([X, torch.ones(n, 1, dtype=torch.float64)], dim=1)       # (n, d + 1)
    pen = torch.cat([torch.full((d,), float(l2), dtype=torch.float64), torch.zeros(1, dtype=torch.float64)])
    theta = torch.zeros(d + 1, dtype=torch.float64)
    for _ in range(iters):
        p = torch.sigmoid(A @ theta)
        grad = A.T @ (p - y) / n + pen * theta
        H = (A.T * (p * (1 - p))) @ A / n + torch.diag(pen)                  # (d + 1, d + 1)
        theta = theta - torch.linalg.solve(H, grad)
    return theta[:d], theta[d]


def dataset(seed, n=None, d=None, scale=1.0, sep=1.5, bias=0.0, dtype=torch.float64):
    """Random (X, y): X ~ N(0, scale^2), y ~ Bernoulli(sigmoid(X w* + b*))."""
    g = torch.Generator().manual_seed(seed)
    n = n or int(torch.randint(5, 60, (), generator=g))
    d = d or int(torch.randint(1, 6, (), generator=g))
    X = torch.randn(n, d, generator=g, dtype=torch.float64)
    w_true = torch.randn(d, generator=g, dtype=torch.float64) * sep
    y = (torch.rand(n, generator=g, dtype=torch.float64) < torch.sigmoid(X @ w_true + bias)).long()
    y[0], y[1] = 0, 1                                                     # both classes present
    return (X * scale).to(dtype), y


def expect_fit(got, want, rule, what, rtol=1e-9, atol=1e-12):
    w, b = V.weights(got, want[0].numel(), what)
    expect_close(w, want[0], rule, rtol=rtol, atol=atol, what=f"w ({what})")
    expect_close(b, float(want[1]), rule, rtol=rtol, atol=atol, what=f"b ({what})")
    return w, b


# --------------------------------------------------------------------------------------------
# sigmoid
# --------------------------------------------------------------------------------------------

@check("sigmoid agrees with torch.sigmoid to a few ulps, relative, over z in [-700, 700] (float64)", points=2)
def sigmoid_agrees(run):
    g = torch.Generator().manual_seed(0)
    z = torch.cat([torch.linspace(-700, 700, 141, dtype=torch.float64), torch.randn(60, generator=g,
                   dtype=torch.float64) * 10, torch.tensor([-30.0, -40.0, 36.0, 0.0], dtype=torch.float64)])
    got = run(V.sig, z)["out"]
    if isinstance(got, torch.Tensor) and got.shape == z.shape and not torch.isfinite(got).all():
        raise Fail(STABLE, f"sigmoid(z) is {got[~torch.isfinite(got)][0].item()} at z = "
                           f"{z[~torch.isfinite(got)][0].item():g}")
    expect_close(got, torch.sigmoid(z), "sigmoid must be accurate RELATIVE to its value in the tails: "
                 "1 - 1 / (1 + exp(z)) rounds sigmoid(-40) = 4.2e-18 to 0; use e / (1 + e) with e = exp(z) for z < 0",
                 rtol=1e-12, atol=0.0, what="sigmoid(z), float64", check_dtype=True)


@check("sigmoid in float32 stays float32, matches torch.sigmoid, and is finite at +-1e4")
def sigmoid_float32(run):
    g = torch.Generator().manual_seed(1)
    z = torch.cat([torch.linspace(-80, 80, 81), torch.randn(40, generator=g) * 5])
    got = run(V.sig, z)["out"]
    expect_close(got, torch.sigmoid(z), "sigmoid keeps the input's dtype (float32 here) and its relative accuracy",
                 rtol=2e-6, atol=0.0, what="sigmoid(z), float32", check_dtype=True)
    huge = torch.tensor([1e4, -1e4, 3e38, -3e38, 89.0, -89.0])
    out = run(V.sig, huge)["out"]
    if not isinstance(out, torch.Tensor) or out.shape != huge.shape or not torch.isfinite(out).all():
        raise Fail(STABLE, f"sigmoid([1e4, -1e4, 3e38, -3e38, 89, -89]) in float32 gave "
                           f"{out.tolist() if isinstance(out, torch.Tensor) else describe(out)}")
    # sigmoid(-89) = 2.2e-39 is subnormal in float32: torch.sigmoid flushes it to 0, a careful e / (1 + e) keeps it
    expect_close(out, torch.sigmoid(huge), STABLE, rtol=2e-6, atol=1e-37, what="sigmoid at +-1e4, +-3e38, +-89")
    expect_close(run(V.sig, z)["z_after"], z, "sigmoid must not modify its input", rtol=0, atol=0,
                 what="z after the call")


# --------------------------------------------------------------------------------------------
# fit: the trajectory, the penalty, the minimiser
# --------------------------------------------------------------------------------------------

@check("fit follows the gradient-descent trajectory exactly: 1, 3 and 25 steps on random data", points=2)
def trajectory(run):
    for k, (epochs, lr) in enumerate(((1, 0.7), (3, 0.3), (25, 0.5), (25, 2.0), (3, 1.0))):
        X, y = dataset(100 + k)
        got = run(V.fit_probe, X, y, lr, epochs, 0.0)
        expect_fit(got, gd_oracle(X, y, lr, epochs, 0.0), "every step moves w by -lr * X^T (p - y) / n and b by "
                   "-lr * mean(p - y), both computed at the same (w, b), starting from zeros",
                   f"n={X.shape[0]}, d={X.shape[1]}, lr={lr}, epochs={epochs}")


@check("the L2 penalty adds l2 * w to the weight gradient and leaves the bias alone", points=2)
def l2_penalty(run):
    for k, (l2, bias) in enumerate(((0.5, 2.0), (1.0, -1.5), (0.05, 0.0))):
        X, y = dataset(200 + k, n=40, d=3, bias=bias)
        got = run(V.fit_probe, X, y, 0.4, 30, l2)
        expect_fit(got, gd_oracle(X, y, 0.4, 30, l2), "the objective's penalty is (l2 / 2) ||w||^2, so its "
                   "gradient is l2 * w (not 2 * l2 * w); the bias is not penalised",
                   f"l2={l2}, labels {int(y.sum())} of {len(y)} positive, 30 epochs")


@check("a long run reaches the exact minimiser of J (Newton's method in float64, = scikit-learn's)", points=2)
def converges(run):
    for k, l2 in enumerate((0.01, 0.1)):
        X, y = dataset(300 + k, n=200, d=4, sep=1.0, bias=0.5)
        got = run(V.fit_probe, X, y, 1.0, 500, l2)
        w_star, b_star = newton_oracle(X, y, l2)
        expect_fit(got, (w_star, b_star), "gradient descent on the convex J converges to its unique minimiser: "
                   "mean log loss + (l2 / 2) ||w||^2, bias unpenalised", f"l2={l2}, 500 epochs, lr=1",
                   rtol=1e-6, atol=1e-7)


@check("the objective never increases from one epoch to the next (lr below 2 / curvature), epochs=0 gives zeros")
def monotone(run):
    X, y = dataset(400, n=50, d=3, sep=3.0)
    l2 = 0.05
    epochs = list(range(0, 13))
    got = run(V.fit_many, X, y, 0.5, l2, epochs)
    w0, b0 = V.weights(got[0], 3, "fit(..., epochs=0)")
    expect_close(w0, torch.zeros(3, dtype=torch.float64), "with epochs=0 fit returns the starting point w = 0",
                 what="w after 0 epochs")
    expect_close(b0, 0.0, "with epochs=0 fit returns the starting point b = 0", what="b after 0 epochs")
    expect_fit(got[-1], gd_oracle(X, y, 0.5, epochs[-1], l2), "fit runs full-batch gradient descent on J from "
               "w = 0, b = 0", f"fit(..., epochs={epochs[-1]})")
    values = [objective(X, y, *V.weights(r, 3, f"fit(..., epochs={e})"), l2) for e, r in zip(epochs, got)]
    for e in range(1, len(values)):
        expect(values[e] <= values[e - 1] + 1e-12, "each gradient step with a small lr lowers J (the mean log loss + "
               "(l2 / 2) ||w||^2): a rising J means a wrong sign or a wrong gradient",
               f"J after {e - 1} epochs = {values[e - 1]:.10g}, after {e} epochs = {values[e]:.10g}")


@check("fit's defaults: lr 0.1, 1000 epochs, no L2 penalty")
def fit_defaults(run):
    X, y = dataset(450, n=40, d=3, scale=0.3, sep=0.8)      # small features: 1000 steps are still on the way
    expect_fit(run(V.fit_probe, X, y), gd_oracle(X, y, 0.1, 1000, 0.0), "fit(X, y) runs 1000 epochs of gradient "
               "descent with lr 0.1 and no penalty by default", "fit(X, y) with the defaults", rtol=1e-7, atol=1e-9)


@check("labels may be int64, float or bool: the same fit every time")
def label_dtypes(run):
    X, y = dataset(500, n=30, d=2)
    base = expect_fit(run(V.fit_probe, X, y, 0.5, 10, 0.1), gd_oracle(X, y, 0.5, 10, 0.1), "fit runs full-batch "
                      "gradient descent from w = 0, b = 0", "fit with int64 labels")
    for label in (y.double(), y.float(), y.bool()):
        expect_fit(run(V.fit_probe, X, label, 0.5, 10, 0.1), base, "the same 0/1 labels give the same fit whatever their "
                   "dtype: convert y to X's dtype first (bool labels cannot be subtracted from probabilities as "
                   "they are)", f"labels of dtype {label.dtype} vs the same labels as int64")


@check("float32 data: w and b are float32 and agree with the float64 computation to float32 accuracy")
def float32(run):
    X, y = dataset(600, n=80, d=4, dtype=torch.float32)
    got = run(V.fit_probe, X, y, 0.5, 40, 0.0)
    for key in ("w", "b"):
        t = got[key]
        expect(isinstance(t, torch.Tensor) and t.dtype == torch.float32, "fit computes in X's dtype and returns "
               "w and b in it (float32 here)", f"{key} is {describe(t)}")
    expect_fit(got, gd_oracle(X, y, 0.5, 40, 0.0), "fit on float32 data follows the same trajectory",
               "float32 X, 40 epochs", rtol=1e-4, atol=1e-5)


@check("X and y are not modified")
def inputs_untouched(run):
    X, y = dataset(700, n=20, d=3)
    got = run(V.fit_probe, X, y.double(), 0.5, 5, 0.1)
    expect_fit(got, gd_oracle(X, y, 0.5, 5, 0.1), "fit runs full-batch gradient descent from w = 0, b = 0",
               "fit(X, y, lr=0.5, epochs=5, l2=0.1)")
    expect_close(got["X_after"], X, "fit must not modify X (e.g. by standardising it in place)", rtol=0, atol=0,
                 what="X after fit")
    expect_close(got["y_after"], y.double(), "fit must not modify y", rtol=0, atol=0, what="y after fit")


@check("huge features (scale 1e3, |z| up to ~1e5) keep fit finite, in float32 and float64", points=2)
def huge_features(run):
    for dtype in (torch.float64, torch.float32):
        X, y = dataset(800, n=40, d=3, scale=1e3, dtype=dtype)
        got = run(V.fit_probe, X, y, 0.1, 20, 0.0)
        w, b = V.weights(got, 3, f"fit on features of scale 1e3 ({dtype})")
        if not (torch.isfinite(w).all() and torch.isfinite(b)):
            raise Fail(STABLE, f"fit on features of scale 1e3 ({dtype}) returned w = {w.tolist()}, b = {b.item()}")
        want = gd_oracle(X, y, 0.1, 20, 0.0, dtype=dtype)
        expect_fit(got, want, "with saturated probabilities (0 or 1 exactly) every step is still the gradient step",
                   f"features of scale 1e3 ({dtype})", rtol=1e-4, atol=1e-4)


# --------------------------------------------------------------------------------------------
# predictions
# --------------------------------------------------------------------------------------------

@check("predict_proba = sigmoid(X w + b) and predict = 1[X w + b > 0] (int64) on random data and huge scores", points=2)
def predictions(run):
    g = torch.Generator().manual_seed(900)
    X = torch.randn(50, 4, generator=g, dtype=torch.float64)
    w, b = torch.randn(4, generator=g, dtype=torch.float64), torch.tensor(0.3, dtype=torch.float64)
    X[:5] = 0.0                                                      # z = b > 0 exactly
    X2, b2 = X * 1e3, torch.tensor(0.0, dtype=torch.float64)
    X2[5:8] = 0.0                                                    # z = 0 exactly: class 0
    for label, (Xi, bi) in (("random scores", (X, b)), ("scores up to ~1e4, some exactly 0", (X2, b2))):
        got = run(V.predictions, Xi, w, bi)
        z = Xi @ w + bi
        p = got["proba"]
        if isinstance(p, torch.Tensor) and p.shape == z.shape and not torch.isfinite(p).all():
            raise Fail(STABLE, f"predict_proba gave {p[~torch.isfinite(p)][0].item()} for a score "
                               f"z = {z[~torch.isfinite(p)][0].item():g} ({label})")
        expect_close(p, torch.sigmoid(z), "predict_proba(X, w, b) = sigmoid(X w + b), shape (n,)", rtol=1e-12,
                     atol=1e-300, what=f"predict_proba ({label})")     # subnormals: torch flushes them to 0
        labels = got["labels"]
        expect(isinstance(labels, torch.Tensor) and labels.dtype == torch.int64, "predict returns int64 labels 0/1",
               f"predict returned {describe(labels)}")
        expect_equal(labels, (z > 0).long(), "predict is 1 where X w + b > 0 strictly and 0 elsewhere (a score "
                     "of exactly 0 is class 0)", what=f"predict ({label})")
