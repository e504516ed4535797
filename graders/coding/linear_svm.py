"""Hidden graders of coding/linear_svm: the objective and subgradient on random data against a
float64 closed form (and torch.autograd away from the kinks), the strict-margin rule, the bias
left unregularised, Pegasos iterates after 1, 10 and 200 iterations, the objective it reaches
(near the SVM optimum, tests/test_twins_coding_linear_svm.py compares with sklearn's SVC), predict,
float32 and untouched inputs."""
import torch

from mlkata.checks import Fail, check, describe, expect, expect_close, expect_equal, visible_module

V = visible_module("coding/linear_svm")


def data(seed, n, D, sep=1.0, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    y = torch.where(torch.rand(n, generator=g) < 0.5, -1.0, 1.0).to(torch.float64)
    direction = torch.randn(D, generator=g, dtype=torch.float64)
    X = torch.randn(n, D, generator=g, dtype=torch.float64) + sep * y[:, None] * direction / direction.norm()
    return X.to(dtype), y.to(dtype)


def params(seed, D, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(D, generator=g, dtype=torch.float64).to(dtype), float(torch.randn((), generator=g))


@check("hinge_objective on random data, weights and lam (0, 0.01, 1)", points=2)
def objective_random(run):
    for i, (n, D, lam) in enumerate(((50, 3, 0.01), (20, 8, 1.0), (100, 2, 0.0))):
        X, y = data(i, n, D)
        w, b = params(10 + i, D)
        expect_close(run("hinge_objective", w, b, X, y, lam), V.objective_oracle(w, b, X, y, lam),
                     "J = lam / 2 * ||w||^2 + mean of max(0, 1 - y (w . x + b)); the bias is not penalised",
                     rtol=1e-9, atol=1e-12, what=f"objective (n={n}, D={D}, lam={lam}, b={b:.3f})")


@check("hinge_subgradient on random data equals the closed form and torch.autograd (no margin exactly 1)", points=2)
def subgradient_random(run):
    for i, (n, D, lam) in enumerate(((50, 3, 0.01), (20, 8, 1.0), (64, 5, 0.1))):
        X, y = data(20 + i, n, D)
        w, b = params(30 + i, D)
        V.expect_subgradient(run(V.subgradient, w, b, X, y, lam), w, b, X, y, lam, f"n={n}, D={D}, lam={lam}",
                             rtol=1e-9, atol=1e-12)
        wr, br = w.clone().requires_grad_(True), torch.tensor(b, dtype=torch.float64, requires_grad=True)
        J = 0.5 * lam * wr @ wr + torch.clamp(1 - y * (X @ wr + br), min=0).mean()
        gw, gb = torch.autograd.grad(J, [wr, br])
        expect_close(run(V.subgradient, w, b, X, y, lam)["out"][0], gw, "away from the kinks the subgradient is "
                     "the gradient", rtol=1e-9, atol=1e-12, what=f"dJ/dw vs autograd (n={n})")


@check("a margin of exactly 1 contributes 0; the bias gets no lam * b term (b = 5)")
def kinks_and_bias(run):
    X = torch.tensor([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0], [-3.0, 0.0]], dtype=torch.float64)
    y = torch.tensor([1.0, 1.0, -1.0, -1.0], dtype=torch.float64)
    w = torch.tensor([0.5, 0.25], dtype=torch.float64)
    for b in (0.5, 5.0):                                     # b = 0.5: margins 1, 1, -1.25, 1: two kinks
        V.expect_subgradient(run(V.subgradient, w, b, X, y, 0.3), w, b, X, y, 0.3, f"b = {b}")


@check("fit_linear_svm: the Pegasos iterates after 1, 10 and 200 iterations on random data (0 iterations: zeros)",
       points=2)
def fit_random(run):
    for i, (n, D, lam, T) in enumerate(((40, 3, 0.1, 1), (40, 3, 0.1, 10), (60, 4, 0.05, 200), (30, 2, 1.0, 200),
                                        (10, 4, 0.1, 0))):
        X, y = data(40 + i, n, D)
        V.expect_fit(run(V.fit, X, y, lam, T), X, y, lam, T, f"n={n}, D={D}, lam={lam}, {T} iterations",
                     rtol=1e-7, atol=1e-9)


@check("after 500 iterations the objective is within 5% of where the exact iterates end (and below the start)")
def fit_descends(run):
    X, y = data(50, 80, 3, sep=2.0)
    got = run(V.fit, X, y, 0.05, 500)["out"]
    if not isinstance(got, (tuple, list)) or len(got) != 2 or not isinstance(got[0], torch.Tensor) \
            or tuple(got[0].shape) != (3,) or not isinstance(got[1], (torch.Tensor, float, int)):
        raise Fail("fit_linear_svm returns (w (D,), b)", f"your code returned {describe(got)}")
    want_w, want_b = V.fit_oracle(X, y, 0.05, 500)
    mine = V.objective_oracle(got[0], float(got[1]), X, y, 0.05)
    best = V.objective_oracle(want_w, want_b, X, y, 0.05)
    expect(mine <= 1.05 * best + 1e-9 and mine < 1.0, "Pegasos descends: from J(0, 0) = 1 to near the minimum",
           f"your final objective {mine:.6g}, the exact iterates reach {best:.6g}")


@check("predict on random data: the sign of the score with 0 -> +1")
def predict_random(run):
    X, y = data(70, 30, 3)
    w, b = params(71, 3)
    X[0] = torch.tensor([0.0, 0.0, 0.0], dtype=torch.float64)
    got = run("predict", w, 0.0, X)
    scores = X @ w
    expect_equal(got, torch.where(scores >= 0, 1, -1), "predict = +1 where w . x + b >= 0, else -1 (int64)",
                 what="predict (b = 0, one point at the origin)")
    expect_equal(run("predict", w, b, X), torch.where(X @ w + b >= 0, 1, -1), "predict uses the bias too",
                 what=f"predict (b = {b:.3f})")
    expect(getattr(got, "dtype", None) == torch.int64, "predictions are int64", f"your dtype: {getattr(got, 'dtype', got)}")


@check("float32 data: float32 results agreeing with float64; no input modified")
def float32_inputs(run):
    X, y = data(80, 30, 3, dtype=torch.float32)
    got = run(V.fit, X, y, 0.1, 20)
    V.expect_fit(got, X, y, 0.1, 20, "float32, 20 iterations", rtol=1e-4, atol=1e-5)
    for name, before, after in zip(("X", "y"), (X, y), got["after"]):
        expect_equal(after, before, "fit_linear_svm does not modify its inputs", what=f"{name} after the call")
