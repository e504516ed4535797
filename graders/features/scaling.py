"""Hidden graders of features/scaling: StandardScaler and MinMaxScaler against the grader's own
float64 numpy oracle (tests/test_twins_features_scaling.py shows that oracle and the reference
agree with sklearn.preprocessing.StandardScaler / MinMaxScaler) on random data of many shapes,
scales and offsets; no leakage from the data transformed; refitting; inputs left untouched;
int input; constant columns (exact and at rounding-noise level); a numerically hard variance
(offset 1e9); tiny and huge scales; a single fitted row; feature ranges and no clipping."""
import numpy as np
import torch

from mlkata.checks import check, describe, expect, expect_close, visible_module

V = visible_module("features/scaling")
t = V.t


# --------------------------------------------------------------------------------------------
# Oracles (float64; written without the reference's formulas where a second route exists)
# --------------------------------------------------------------------------------------------

def standard_oracle(X):
    """mean, population var and scale of every column, the sum-based way, in float64."""
    X = np.asarray(X, dtype=np.float64)
    n = X.shape[0]
    mean = X.sum(axis=0) / n
    var = np.einsum("ij,ij->j", X - mean, X - mean) / n
    scale = np.sqrt(var)
    scale[np.ptp(X, axis=0) == 0] = 1.0
    return {"mean_": mean, "var_": var, "scale_": scale}


def minmax_oracle(X, feature_range=(0.0, 1.0)):
    X = np.asarray(X, dtype=np.float64)
    a, b = feature_range
    lo, hi = X.min(axis=0), X.max(axis=0)
    rng = hi - lo
    rng[rng == 0] = 1.0
    scale = (b - a) / rng
    return {"data_min_": lo, "data_max_": hi, "scale_": scale, "min_": a - lo * scale}


def standardise(st, X):
    return (np.asarray(X, dtype=np.float64) - st["mean_"]) / st["scale_"]


def minmax(st, X):
    return np.asarray(X, dtype=np.float64) * st["scale_"] + st["min_"]


def random_data(seed, n=None, d=None):
    """Columns with their own offsets and scales (spanning 1e-2 .. 1e3) and a few constant columns."""
    rng = np.random.default_rng(seed)
    n = n or int(rng.integers(2, 40))
    d = d or int(rng.integers(1, 7))
    offset = rng.normal(0, 50, size=d)
    scale = 10.0 ** rng.uniform(-2, 3, size=d)
    X = offset + scale * rng.standard_normal((n, d))
    if d > 1 and seed % 3 == 0:
        X[:, int(rng.integers(d))] = float(np.round(rng.normal(0, 5), 2))   # a constant column
    X_test = offset + 2 * scale * rng.standard_normal((int(rng.integers(1, 10)), d))
    return X, X_test


STANDARD_RULES = {
    "mean_": "mean_ is the mean of every column (axis 0) of the data given to fit",
    "var_": "var_ is the POPULATION variance of every column: mean((x - mean)^2), dividing by n (ddof=0)",
    "scale_": "scale_ = sqrt(var_), the population standard deviation (1 for a constant column)",
}
MINMAX_RULES = {
    "data_min_": "data_min_ is the minimum of every column of the fitted data",
    "data_max_": "data_max_ is the maximum of every column of the fitted data",
    "scale_": "scale_ = (b - a) / (data_max_ - data_min_), with a zero range counted as 1",
    "min_": "min_ = a - data_min_ * scale_",
}
NO_LEAK = ("transform uses the statistics learned in fit (mean_, scale_ / min_) -- it never recomputes them "
           "from the data it is given; that would leak the test set")


def expect_fitted(got, want, rules, what, rtol=1e-9, atol=1e-12):
    for name, rule in rules.items():
        expect_close(got[name], t(want[name]), rule, rtol=rtol, atol=atol, what=f"{name} ({what})")


# --------------------------------------------------------------------------------------------
# StandardScaler
# --------------------------------------------------------------------------------------------

@check("StandardScaler agrees with sklearn's (population std) on random data: statistics, train and test "
       "transforms, inverse", points=2)
def standard_agrees(run):
    for seed in range(8):
        X, X_test = random_data(seed)
        st = standard_oracle(X)
        Z = np.random.default_rng(100 + seed).standard_normal(X_test.shape)
        got = run(V.scaler, "StandardScaler", X, X_apply=X_test, Z=Z)
        what = f"X of shape {list(X.shape)}, seed {seed}"
        expect_fitted(got, st, STANDARD_RULES, what)
        expect_close(got["train"], t(standardise(st, X)), "transform(X) = (X - mean_) / scale_, column by column",
                     rtol=1e-7, atol=1e-9, what=f"transform of the fitted X ({what})")
        expect_close(got["test"], t(standardise(st, X_test)), NO_LEAK, rtol=1e-7, atol=1e-9,
                     what=f"transform of a test set ({what})")
        expect_close(got["inverse"], t(Z * st["scale_"] + st["mean_"]), "inverse_transform(Z) = Z * scale_ + mean_",
                     rtol=1e-9, atol=1e-9, what=f"inverse_transform ({what})")


@check("transform never refits: a shifted test set, or one of a single row, uses the training statistics", points=2)
def standard_no_leakage(run):
    X, _ = random_data(11, n=30, d=3)
    st = standard_oracle(X)
    for X_test, name in ((X[:5] + 100.0, "a test set shifted by +100"), (X[7:8], "a single row"),
                         (X[:2] * 3.0, "a two-row test set")):
        got = run(V.scaler, "StandardScaler", X, X_apply=X_test)
        expect_close(got["test"], t(standardise(st, X_test)), NO_LEAK, rtol=1e-7, atol=1e-9,
                     what=f"transform of {name}")


@check("fit_transform gives fit then transform, and fitting again replaces the statistics")
def standard_fit_transform_and_refit(run):
    X, X_test = random_data(21, n=12, d=4)
    st = standard_oracle(X)
    got = run(V.scaler, "StandardScaler", X, X_apply=X_test, how="fit_transform")
    expect_close(got["fit_transform"], t(standardise(st, X)), "fit_transform(X) equals fit(X).transform(X)",
                 rtol=1e-7, atol=1e-9, what="fit_transform(X)")
    expect_fitted(got, st, STANDARD_RULES, "after fit_transform")
    expect_close(got["test"], t(standardise(st, X_test)), "after fit_transform the scaler is fitted, as after fit",
                 rtol=1e-7, atol=1e-9, what="transform of a test set after fit_transform")
    got = run(V.refit, "StandardScaler", X_test, X, X_test)
    expect_fitted(got, st, STANDARD_RULES, "fit(A) then fit(B): the statistics of B alone")
    expect_close(got["test"], t(standardise(st, X_test)), "fit replaces the previous statistics; it does not "
                 "accumulate them (that is partial_fit)", rtol=1e-7, atol=1e-9, what="transform after refitting")


@check("fit, transform and inverse_transform leave their input arrays unchanged")
def standard_inputs_untouched(run):
    X, X_test = random_data(31, n=10, d=3)
    Z = np.random.default_rng(5).standard_normal(X_test.shape)
    got = run(V.scaler, "StandardScaler", X, X_apply=X_test, Z=Z)
    st = standard_oracle(X)
    expect_close(got["test"], t(standardise(st, X_test)), NO_LEAK, rtol=1e-7, atol=1e-9, what="transform of a test set")
    expect_close(got["inverse"], t(Z * st["scale_"] + st["mean_"]), "inverse_transform(Z) = Z * scale_ + mean_",
                 rtol=1e-9, atol=1e-9, what="inverse_transform")
    rule = "work on a copy: `X -= mean` on the caller's float64 array changes their data"
    for name, want in (("X_fit", X), ("X_apply", X_test), ("Z", Z)):
        expect_close(got["inputs_after"][name], t(want), rule, rtol=0, atol=0, what=f"{name} after the calls")


@check("int input is fine: statistics and results are floats (no integer division)")
def standard_int_input(run):
    X = np.array([[1, 10], [2, 13], [4, 20], [5, 11]], dtype=np.int64)
    X_test = np.array([[3, 12]], dtype=np.int64)
    st = standard_oracle(X)
    got = run(V.scaler, "StandardScaler", X, X_apply=X_test, Z=np.array([[1, -1]], dtype=np.int64))
    expect_fitted(got, st, STANDARD_RULES, "int64 X")
    expect_close(got["test"], t(standardise(st, X_test)), "an int array is standardised in float64",
                 rtol=1e-9, what="transform of an int64 test set")
    expect(isinstance(got["test"], torch.Tensor) and got["test"].is_floating_point(),
           "transform returns a float array", f"it returned {describe(got['test'])}")


@check("constant columns: exactly constant, and at rounding-noise level (seven copies of 0.1), map to 0")
def standard_constant_columns(run):
    X = np.array([[3.0, 0.1, 0.0, 1.0]] * 7)
    X[:, 3] = [1.0, 2.0, 0.0, 5.0, 3.0, 1.0, 2.0]
    st = standard_oracle(X)
    got = run(V.scaler, "StandardScaler", X, X_apply=np.array([[4.0, 0.1, -1.0, 2.0]]))
    rule = ("a constant column has scale_ 1; decide 'constant' exactly (max == min): the computed variance of "
            "seven copies of 0.1 is rounding noise (1.9e-34), and dividing by its root turns noise into +-1")
    expect_close(got["scale_"], t(st["scale_"]), rule, rtol=1e-9, what="scale_ (columns 0-2 constant)")
    expect_close(got["train"], t(standardise(st, X)), rule, rtol=1e-9, atol=1e-9, what="transform of the fitted X")
    expect_close(got["test"], t(standardise(st, [[4.0, 0.1, -1.0, 2.0]])), rule + "; a new value v in a constant "
                 "column maps to v - mean", rtol=1e-9, atol=1e-9, what="transform([[4, 0.1, -1, 2]])")


@check("the variance is computed stably: a column 1e9 + N(0, 1) has var_ ~ 1, not a cancelled E[x^2] - E[x]^2")
def standard_stable_variance(run):
    rng = np.random.default_rng(41)
    X = 1e9 + rng.standard_normal((200, 2)) * [1.0, 3.0]
    X_test = 1e9 + rng.standard_normal((5, 2))
    st = standard_oracle(X)
    got = run(V.scaler, "StandardScaler", X, X_apply=X_test)
    rule = ("compute the variance in two passes, mean((x - mean)^2): E[x^2] - E[x]^2 subtracts two numbers near "
            "1e18 and loses every digit (it can even come out negative)")
    expect_close(got["var_"], t(st["var_"]), rule, rtol=1e-6, what="var_ of 1e9 + noise")
    expect_close(got["test"], t(standardise(st, X_test)), rule, rtol=1e-5, atol=1e-5, what="transform of a test set")


@check("tiny and huge scales (std 1e-8 and 1e8) are standardised exactly: no epsilon added to the std")
def standard_extreme_scales(run):
    rng = np.random.default_rng(51)
    X = rng.standard_normal((50, 3)) * [1e-8, 1e8, 1e-12] + [0.0, 5e7, 1e-10]
    st = standard_oracle(X)
    got = run(V.scaler, "StandardScaler", X, X_apply=X[:4] * 1.5)
    rule = "divide by the standard deviation itself: an added epsilon (std + 1e-8) distorts features of small scale"
    expect_close(got["scale_"], t(st["scale_"]), rule, rtol=1e-9, atol=0, what="scale_")
    expect_close(got["train"], t(standardise(st, X)), rule, rtol=1e-7, atol=1e-9, what="transform of the fitted X")
    expect_close(got["test"], t(standardise(st, X[:4] * 1.5)), rule, rtol=1e-7, atol=1e-9, what="transform of a test set")


@check("a single fitted row: every column is constant, so transform(X) is 0 and transform(v) is v - x")
def standard_single_row(run):
    X = np.array([[2.0, -3.0, 0.5]])
    got = run(V.scaler, "StandardScaler", X, X_apply=np.array([[3.0, -3.0, 0.0]]))
    rule = "with one fitted row every variance is 0, so every scale_ is 1 (no nan)"
    expect_close(got["var_"], t([0.0, 0.0, 0.0]), rule, what="var_")
    expect_close(got["scale_"], t([1.0, 1.0, 1.0]), rule, what="scale_")
    expect_close(got["train"], t([[0.0, 0.0, 0.0]]), rule, what="transform of the fitted row")
    expect_close(got["test"], t([[1.0, 0.0, -0.5]]), rule, what="transform([[3, -3, 0]])")


# --------------------------------------------------------------------------------------------
# MinMaxScaler
# --------------------------------------------------------------------------------------------

@check("MinMaxScaler agrees with sklearn's on random data and feature ranges: statistics, train and test "
       "transforms, inverse", points=2)
def minmax_agrees(run):
    ranges = [(0.0, 1.0), (-1.0, 1.0), (2.0, 5.0), (-3.5, -0.5), (0.0, 255.0), None]   # None: the default
    for seed, given in enumerate(ranges):
        fr = (0.0, 1.0) if given is None else given
        X, X_test = random_data(60 + seed)
        st = minmax_oracle(X, fr)
        Z = np.random.default_rng(200 + seed).uniform(fr[0], fr[1], size=X_test.shape)
        got = run(V.scaler, "MinMaxScaler", X, X_apply=X_test, Z=Z, feature_range=given)
        what = f"feature_range={'left to its default, (0, 1)' if given is None else fr}, X of shape {list(X.shape)}"
        expect_fitted(got, st, MINMAX_RULES, what)
        expect_close(got["train"], t(minmax(st, X)), "min-max scaling maps each column's fitted [min, max] onto "
                     "feature_range = (a, b): a + (x - min) * (b - a) / (max - min)", rtol=1e-7, atol=1e-9,
                     what=f"transform of the fitted X ({what})")
        expect_close(got["test"], t(minmax(st, X_test)), NO_LEAK + "; values outside the fitted range are not "
                     "clipped", rtol=1e-7, atol=1e-9, what=f"transform of a test set ({what})")
        expect_close(got["inverse"], t((Z - st["min_"]) / st["scale_"]), "inverse_transform(Z) = (Z - min_) / "
                     "scale_ = min + (z - a) * (max - min) / (b - a)", rtol=1e-7, atol=1e-9,
                     what=f"inverse_transform ({what})")


@check("MinMaxScaler: a constant column maps to a (fitted value) and v -> a + (v - x) * (b - a); no nan")
def minmax_constant(run):
    X = np.array([[7.0, 1.0], [7.0, 3.0], [7.0, 2.0]])
    fr = (-2.0, 4.0)
    st = minmax_oracle(X, fr)
    got = run(V.scaler, "MinMaxScaler", X, X_apply=np.array([[8.0, 2.0]]), Z=np.array([[1.0, 1.0]]),
              feature_range=fr)
    rule = "a constant column has range 0, counted as 1: scale_ = b - a, so the fitted value maps to a, never nan"
    expect_fitted(got, st, MINMAX_RULES, f"constant first column, feature_range={fr}")
    expect_close(got["train"], t(minmax(st, X)), rule, rtol=1e-9, what="transform of the fitted X")
    expect_close(got["test"], t([[4.0, 1.0]]), rule, rtol=1e-9, what="transform([[8, 2]])")
    expect_close(got["inverse"], t([[7.5, 2.0]]), "inverse_transform undoes transform, constant columns included",
                 rtol=1e-9, what="inverse_transform([[1, 1]])")


@check("MinMaxScaler: no leakage, no clipping, fit_transform = fit + transform, inputs untouched")
def minmax_no_leakage(run):
    X, _ = random_data(71, n=20, d=3)
    st = minmax_oracle(X, (-1.0, 1.0))
    X_test = np.vstack([X.max(axis=0) + 10.0, X.min(axis=0) - 10.0])
    got = run(V.scaler, "MinMaxScaler", X, X_apply=X_test, feature_range=(-1.0, 1.0), how="fit_transform")
    expect_close(got["fit_transform"], t(minmax(st, X)), "fit_transform(X) equals fit(X).transform(X)",
                 rtol=1e-7, atol=1e-9, what="fit_transform(X)")
    expect_close(got["test"], t(minmax(st, X_test)), NO_LEAK + "; values beyond the fitted range map beyond [a, b] "
                 "(no clipping)", rtol=1e-7, atol=1e-9, what="transform of rows 10 above the max and 10 below the min")
    got = run(V.scaler, "MinMaxScaler", X, X_apply=X[3:4], feature_range=(-1.0, 1.0))
    expect_close(got["test"], t(minmax(st, X[3:4])), NO_LEAK, rtol=1e-7, atol=1e-9, what="transform of one row")
    expect_close(got["inputs_after"]["X_fit"], t(X), "fit and transform leave their input unchanged", rtol=0, atol=0,
                 what="X after the calls")
    got = run(V.refit, "MinMaxScaler", X_test, X, X[3:4], feature_range=(-1.0, 1.0))
    expect_fitted(got, st, MINMAX_RULES, "fit(A) then fit(B): the statistics of B alone")
