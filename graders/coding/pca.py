"""Hidden graders of coding/pca: agreement with the eigendecomposition of the float64 covariance
on random data (tests/test_twins_coding_pca.py shows it and the reference agree with
sklearn.decomposition.PCA(svd_solver="full")), the svd_flip sign convention, transform /
inverse_transform, the ratio's total over all components, wide data (n < d), a large mean and
small-variance directions against data built with a known exact spectrum (where the covariance
route loses its digits), float32, d = 1, the ValueErrors, fit returning self, untouched inputs."""
import torch

from mlkata.checks import Fail, check, describe, expect, expect_close, visible_module

V = visible_module("coding/pca")

F64 = torch.float64
RULE = "PCA = thin SVD of the centred data, components in decreasing order of variance"


# --------------------------------------------------------------------------------------------
# Oracles
# --------------------------------------------------------------------------------------------

def flip_signs(rows):
    """svd_flip(u_based_decision=False): each row's largest-|value| entry (first on a tie) positive."""
    top = rows.abs().argmax(dim=1)
    return rows * torch.sign(rows[torch.arange(rows.shape[0]), top]).unsqueeze(1)


def eig_oracle(X, k=None):
    """Eigendecomposition of the float64 sample covariance (n - 1) of the centred data."""
    X64 = X.double()
    n, d = X64.shape
    r = min(n, d)
    k = k or r
    mean = X64.mean(dim=0)
    Xc = X64 - mean
    C = Xc.T @ Xc / (n - 1)
    evals, evecs = torch.linalg.eigh(C)                                  # ascending
    evals, rows = evals.flip(0).clamp_min(0), flip_signs(evecs.flip(1).T)
    return {"mean_": mean, "components_": rows[:k], "explained_variance_": evals[:k],
            "explained_variance_ratio_": evals[:k] / torch.trace(C),
            "singular_values_": (evals[:k] * (n - 1)).sqrt()}


def exact_data(seed, n, d, s, mean_scale=0.0):
    """X = mean + U diag(s) V^T with U orthonormal and orthogonal to the ones vector: the centred
    data's singular values are exactly s, its principal axes the columns of V (float64)."""
    g = torch.Generator().manual_seed(seed)
    A = torch.randn(n, len(s) + 1, generator=g, dtype=F64)
    A[:, 0] = 1.0
    U = torch.linalg.qr(A)[0][:, 1:]                                     # (n, r), orthogonal to ones
    Vm = torch.linalg.qr(torch.randn(d, len(s), generator=g, dtype=F64))[0]   # (d, r)
    mean = torch.randn(d, generator=g, dtype=F64) * mean_scale
    S = torch.tensor(s, dtype=F64)
    X = U @ torch.diag(S) @ Vm.T + mean
    want = {"mean_": mean, "components_": flip_signs(Vm.T), "explained_variance_": S ** 2 / (n - 1),
            "explained_variance_ratio_": S ** 2 / (S ** 2).sum(), "singular_values_": S}
    return X, want


def data(seed, n=None, d=None):
    """Random correlated data with a random mean."""
    g = torch.Generator().manual_seed(seed)
    d = d or int(torch.randint(2, 8, (), generator=g))
    n = n or int(torch.randint(d + 5, 80, (), generator=g))
    A = torch.randn(d, d, generator=g, dtype=F64) * torch.linspace(2.0, 0.3, d, dtype=F64)[:, None]
    return torch.randn(n, d, generator=g, dtype=F64) @ A + torch.randn(d, generator=g, dtype=F64) * 3


def fitted(got, k, d, what):
    V.attrs(got, k, d, what)
    return got


# --------------------------------------------------------------------------------------------
# agreement and conventions
# --------------------------------------------------------------------------------------------

@check("agrees with the eigendecomposition of the float64 covariance on random data (= sklearn PCA)", points=2)
def agrees_random(run):
    for seed in range(6):
        X = data(seed)
        n, d = X.shape
        k = None if seed % 2 else int(torch.randint(1, d + 1, (), generator=torch.Generator().manual_seed(seed)))
        V.expect_pca(run(V.fit, X, k), eig_oracle(X, k), RULE, f"n={n}, d={d}, n_components={k}")


@check("sign convention: each component's entry of largest absolute value is positive (svd_flip)")
def sign_convention(run):
    for seed in range(10, 14):
        X = data(seed)
        got = run(V.fit, X)
        V.expect_pca(got, eig_oracle(X), "fix each component's sign as scikit-learn's svd_flip(u_based_decision="
                     "False): multiply the row by the sign of its largest-|value| entry", f"seed {seed}",
                     exact_signs=True)


@check("transform / inverse_transform use the training mean and components; the scores' covariance is "
       "diag(explained_variance_); a full round trip returns X", points=2)
def transform_inverse_random(run):
    X = data(20, n=50, d=5)
    g = torch.Generator().manual_seed(21)
    Xq = torch.randn(7, 5, generator=g, dtype=F64) * 2
    Z = torch.randn(4, 3, generator=g, dtype=F64)
    got = run(V.fit, X, 3, Xq, Z)
    V.expect_pca(got, eig_oracle(X, 3), RULE, "n=50, d=5, n_components=3")
    comps, mean = got["components_"].double(), got["mean_"].double()   # the learner's own (already checked)
    expect_close(got["transform"], (Xq - mean) @ comps.T, "transform(X) = (X - mean_) @ components_.T, with the "
                 "TRAINING mean_ (not the mean of the rows being transformed)", rtol=1e-9, atol=1e-9,
                 what="transform of 7 new rows")
    expect_close(got["inverse"], Z @ comps + mean, "inverse_transform(Z) = Z @ components_ + mean_", rtol=1e-9,
                 atol=1e-9, what="inverse_transform of 4 score rows")
    got = run(V.fit, X, 5, X.clone(), None)
    scores = got["transform"]
    if not isinstance(scores, torch.Tensor) or tuple(scores.shape) != (50, 5):
        raise Fail("transform returns (m, k) scores", f"transform(X) is {describe(scores)}")
    cov = scores.double().T @ scores.double() / 49
    expect_close(cov, torch.diag(eig_oracle(X)["explained_variance_"]), "the scores of the training data are "
                 "uncorrelated, with variances explained_variance_ (n - 1 denominator)", rtol=1e-8, atol=1e-9,
                 what="covariance of transform(X)")
    got = run(V.fit, X, 5, None, scores)
    expect_close(got["inverse"], X, "with all min(n, d) components inverse_transform(transform(X)) is X",
                 rtol=1e-9, atol=1e-9, what="inverse_transform(transform(X))")


@check("explained_variance_ratio_ divides by the total variance of ALL components, not of the kept ones")
def ratio_total(run):
    X = data(30, n=40, d=6)
    got = run(V.fit, X, 2)
    want = eig_oracle(X, 2)
    V.attrs(got, 2, 6, "n_components=2 of 6")
    expect_close(got["explained_variance_ratio_"].double(), want["explained_variance_ratio_"], "the ratio is "
                 "explained_variance_ / (sum of the variances of all min(n, d) components) -- with 2 of 6 kept it "
                 "sums to less than 1", rtol=1e-9, atol=1e-12, what="explained_variance_ratio_ (2 of 6 kept)")


@check("wide data (n = 6 < d = 10): min(n, d) = 6 components, the last with variance 0")
def wide(run):
    X = data(40, n=6, d=10)
    got = run(V.fit, X)
    fitted(got, 6, 10, "n=6, d=10")
    want = eig_oracle(X, 5)                                               # rank n - 1 = 5 after centring
    first5 = {key: got[key][:5] for key in ("components_", "explained_variance_", "explained_variance_ratio_",
                                            "singular_values_")}
    first5.update(mean_=got["mean_"], n_components_=5)
    V.expect_pca(first5, want, RULE + "; n < d leaves min(n, d) = n components", "first 5 of 6 (n=6, d=10)")
    expect_close(got["explained_variance_"][5].double(), 0.0, "centred n rows span at most n - 1 directions: the "
                 "last component's variance is 0 (up to rounding)", atol=1e-9, what="explained_variance_[5]")
    V.expect_pca(run(V.fit, X, 3), eig_oracle(X, 3), RULE, "n=6, d=10, n_components=3")


@check("a single feature (d = 1): component [[1.0]], ratio [1]")
def one_feature(run):
    X = torch.tensor([[3.0], [-1.0], [4.0], [1.5], [-5.0]], dtype=F64)
    V.expect_pca(run(V.fit, X), eig_oracle(X), RULE + "; the only axis is +1, never -1 (sign convention)",
                 "d = 1", exact_signs=True)


# --------------------------------------------------------------------------------------------
# stability tier
# --------------------------------------------------------------------------------------------

@check("a large mean (1e6) does not disturb the variances: centre first", points=2)
def large_mean(run):
    X, want = exact_data(50, 60, 5, [3.0, 2.0, 1.0, 0.5, 0.25], mean_scale=1e6)
    V.expect_pca(run(V.fit, X), want, "subtract the mean before anything else: X^T X / n - mean mean^T cancels "
                 "catastrophically when the mean is 1e6", "data with mean ~1e6", rtol=1e-6, atol=0, comp_atol=1e-6)


@check("small-variance directions keep their digits: SVD of the centred data, not eigh of the covariance", points=2)
def small_variance(run):
    X, want = exact_data(60, 60, 5, [1e3, 1.0, 1e-3])
    got = run(V.fit, X, 3)
    rule = ("the covariance Xc^T Xc squares the singular values: a spread of 1e-3 of the largest becomes 1e-6 and "
            "eigh's rounding wipes it out -- take the SVD of the centred data")
    V.attrs(got, 3, 5, "spreads 1e3, 1, 1e-3")
    expect_close(got["explained_variance_"].double(), want["explained_variance_"], rule, rtol=1e-7, atol=0,
                 what="explained_variance_ (float64, spreads 1e3, 1, 1e-3)")
    V.expect_pca(got, want, rule, "float64, spreads 1e3, 1, 1e-3", rtol=1e-7, atol=1e-12, comp_atol=1e-8)
    X32 = exact_data(61, 60, 5, [100.0, 1.0, 0.1])[0].float()
    got = run(V.fit, X32, 3)
    want = eig_oracle(X32, 3)                                             # float64 on the float32 data
    V.attrs(got, 3, 5, "float32, spreads 100, 1, 0.1")
    expect_close(got["explained_variance_"].double(), want["explained_variance_"], rule + " (in float32 already "
                 "at a spread ratio of 1e-3)", rtol=1e-3, atol=0, what="explained_variance_ (float32, spreads 100, 1, 0.1)")


@check("float32 data: every fitted tensor is float32 and agrees with the float64 answer to float32 accuracy")
def float32(run):
    X = data(70, n=40, d=4).float()
    got = run(V.fit, X, None, X[:5])
    for a in ("mean_", "components_", "explained_variance_", "explained_variance_ratio_", "singular_values_",
              "transform"):
        t = got[a]
        expect(isinstance(t, torch.Tensor) and t.dtype == torch.float32, "PCA computes in X's dtype and keeps it "
               "(float32 here)", f"{a} is {describe(t)}")
    V.expect_pca(got, eig_oracle(X), RULE, "float32 data", rtol=1e-4, atol=1e-5, comp_atol=1e-4)


# --------------------------------------------------------------------------------------------
# errors and bookkeeping
# --------------------------------------------------------------------------------------------

@check("ValueError for n < 2, for n_components above min(n, d) (wide data too) and for 0")
def errors(run):
    cases = [("a single row", torch.tensor([[1.0, 2.0]], dtype=F64), None),
             ("n_components=4 with n=3, d=5", data(80, n=3, d=5), 4),
             ("n_components=0", data(81, n=10, d=3), 0),
             ("n_components=4 with d=3", data(82, n=10, d=3), 4)]
    for label, X, k in cases:
        got = run(V.raises, X, k)
        expect(got["value_error"], "fit raises ValueError unless n >= 2 and 1 <= n_components <= min(n, d)",
               f"{label}: " + (f"raised {got['raised']}: {got['message']}" if got["raised"]
                               else "returned without raising"))


@check("fit returns self and does not modify X")
def returns_self_untouched(run):
    X = data(90, n=20, d=3)
    got = run(V.fit, X, 2)
    V.expect_pca(got, eig_oracle(X, 2), RULE, "n=20, d=3, n_components=2")
    expect(got["returns_self"] is True, "fit returns self (so PCA(k).fit(X).transform(X) works)",
           "fit returned something else")
    if not torch.equal(got["X_after"], X):
        raise Fail("fit must not modify X (X -= X.mean(0) centres the caller's data)", "X changed during fit")
