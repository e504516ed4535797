"""Hidden graders of coding/naive_bayes: both fits on random data (blobs, Poisson counts) against
closed-form counts in float64 (tests/test_twins_coding_naive_bayes.py checks both against
scikit-learn); var_smoothing's epsilon from the LARGEST feature variance (a feature constant within
a class); alpha; log posteriors given the oracle's model and with the learner's own fit; points
far from every class (log-sum-exp); predictions; float32; untouched inputs."""
import torch

from mlkata.checks import check, expect, expect_equal, visible_module

V = visible_module("coding/naive_bayes")


def blobs(seed, N, D, C, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    y = torch.cat([torch.arange(C), torch.randint(0, C, (N - C,), generator=g)])      # every class occurs
    centres = torch.randn(C, D, generator=g, dtype=torch.float64) * 3
    scales = torch.rand(C, D, generator=g, dtype=torch.float64) + 0.3
    X = centres[y] + torch.randn(N, D, generator=g, dtype=torch.float64) * scales[y]
    return X.to(dtype), y


def counts(seed, N, D, C):
    g = torch.Generator().manual_seed(seed)
    y = torch.cat([torch.arange(C), torch.randint(0, C, (N - C,), generator=g)])
    rates = torch.rand(C, D, generator=g, dtype=torch.float64) * 4
    rates[rates < 0.8] = 0.0                                     # some words never occur in some classes
    return torch.poisson(rates[y], generator=g), y


@check("gaussian_nb_fit on random blobs (several N, D, C, var_smoothing) matches the closed form", points=2)
def gaussian_fit_random(run):
    for i, (N, D, C, vs) in enumerate(((60, 3, 2, 1e-9), (100, 5, 4, 1e-9), (40, 2, 3, 1e-2), (9, 7, 3, 0.5))):
        X, y = blobs(i, N, D, C)
        V.expect_model(run(V.fit, "gaussian", X, y, C, var_smoothing=vs), V.gaussian_oracle(X, y, C, vs),
                       f"N={N}, D={D}, C={C}, var_smoothing={vs}")


@check("var_smoothing adds epsilon = var_smoothing * max_d var(X[:, d]) to every variance (a feature constant in a "
       "class stays finite)")
def epsilon_rule(run):
    X = torch.tensor([[1.0, 0.0, 100.0], [1.0, 1.0, -100.0], [1.0, 2.0, 50.0], [5.0, 3.0, 0.0], [6.0, 3.0, 10.0]],
                     dtype=torch.float64)
    y = torch.tensor([0, 0, 0, 1, 1])
    got = run(V.fit, "gaussian", X, y, 2, var_smoothing=1e-3)
    V.expect_model(got, V.gaussian_oracle(X, y, 2, 1e-3), "feature 0 constant in class 0, feature 1 in class 1")
    X_test = torch.tensor([[1.0, 0.5, 0.0], [3.0, 3.0, 5.0]], dtype=torch.float64)
    got = run(V.fit_predict, "gaussian", X, y, 2, X_test, var_smoothing=1e-3)
    V.expect_log_proba(got["log_proba"], V.log_proba_oracle("gaussian", V.gaussian_oracle(X, y, 2, 1e-3), X_test),
                       "constant features", atol=1e-5)


@check("gaussian_nb_log_proba with a given model on random points (includes the 2 pi var normaliser)", points=2)
def gaussian_log_proba_random(run):
    for i, (N, D, C) in enumerate(((50, 4, 3), (30, 2, 2), (80, 6, 5))):
        X, y = blobs(10 + i, N, D, C)
        model = V.gaussian_oracle(X, y, C)
        X_test, _ = blobs(20 + i, 25, D, C)
        V.expect_log_proba(run(V.log_proba_of, "gaussian", model, X_test), V.log_proba_oracle("gaussian", model, X_test),
                           f"N_test=25, D={D}, C={C}")


@check("points 1000 standard deviations from every class: finite log posteriors (log-sum-exp)")
def far_points(run):
    X, y = blobs(30, 40, 3, 3)
    model = V.gaussian_oracle(X, y, 3)
    X_test = torch.tensor([[1e3, -1e3, 5e2], [-2e3, 0.0, 0.0]], dtype=torch.float64)
    got = run(V.log_proba_of, "gaussian", model, X_test)
    expect(isinstance(got, torch.Tensor) and bool(torch.isfinite(got).all()), "normalise with logsumexp: exp of "
           "joint log-likelihoods around -1e6 underflows to 0, and log(0) = -inf",
           f"your log_proba: {got.tolist() if isinstance(got, torch.Tensor) else got}")
    V.expect_log_proba(got, V.log_proba_oracle("gaussian", model, X_test), "far points", rtol=1e-6, atol=1e-3)


@check("multinomial_nb_fit on random count matrices, alpha = 1, 0.5 and 0.01 (unseen words in some classes)",
       points=2)
def multinomial_fit_random(run):
    for i, (N, D, C, alpha) in enumerate(((40, 10, 3, 1.0), (60, 20, 4, 0.5), (15, 6, 2, 0.01))):
        X, y = counts(40 + i, N, D, C)
        V.expect_model(run(V.fit, "multinomial", X, y, C, alpha=alpha), V.multinomial_oracle(X, y, C, alpha),
                       f"N={N}, D={D}, C={C}, alpha={alpha}")


@check("multinomial_nb_log_proba with a given model, and fit + log_proba + predict end to end", points=2)
def multinomial_log_proba_random(run):
    for i, (N, D, C) in enumerate(((40, 10, 3), (60, 20, 4))):
        X, y = counts(50 + i, N, D, C)
        model = V.multinomial_oracle(X, y, C, 0.7)
        X_test, _ = counts(60 + i, 20, D, C)
        V.expect_log_proba(run(V.log_proba_of, "multinomial", model, X_test),
                           V.log_proba_oracle("multinomial", model, X_test), f"given model, D={D}, C={C}")
        got = run(V.fit_predict, "multinomial", X, y, C, X_test, alpha=0.7)
        want = V.log_proba_oracle("multinomial", model, X_test)
        V.expect_log_proba(got["log_proba"], want, f"fit then log_proba, D={D}, C={C}")
        expect_equal(got["predict"], want.argmax(1), "predict is the argmax of the log posterior", what="predictions")


@check("float32 data gives float32 models and posteriors that agree with float64 to float32 precision")
def float32(run):
    X, y = blobs(70, 50, 3, 3, dtype=torch.float32)
    got = run(V.fit, "gaussian", X, y, 3)
    model = got["model"]
    expect(isinstance(model, dict) and all(getattr(v, "dtype", None) == torch.float32 for v in model.values()),
           "the fitted model has X's dtype", f"your model: { {k: getattr(v, 'dtype', v) for k, v in model.items()} }"
           if isinstance(model, dict) else "not a dict")
    V.expect_model(got, V.gaussian_oracle(X, y, 3), "float32", rtol=1e-4, atol=1e-5)


@check("fitting modifies neither X nor y")
def inputs_untouched(run):
    for kind, (X, y) in (("gaussian", blobs(80, 20, 2, 2)), ("multinomial", counts(81, 20, 5, 2))):
        got = run(V.fit, kind, X, y, 2)
        want = V.gaussian_oracle(X, y, 2) if kind == "gaussian" else V.multinomial_oracle(X, y, 2)
        V.expect_model(got, want, kind)
        for name, before, after in zip(("X", "y"), (X, y), got["after"]):
            expect_equal(after, before, f"{kind}_nb_fit does not modify its inputs", what=f"{name} after the call")
