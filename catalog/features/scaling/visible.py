"""Visible checks: StandardScaler and MinMaxScaler on small fixed matrices -- the fitted statistics,
the population standard deviation, a test set transformed with the TRAINING statistics, a
constant column, and inverse_transform."""
import numpy as np
import torch

from mlkata.checks import check, expect, expect_close, probe

ATTRS = {"StandardScaler": ("mean_", "var_", "scale_"),
         "MinMaxScaler": ("data_min_", "data_max_", "scale_", "min_")}


def _arr(v):
    """A fitted attribute as a float64 array when it reads as one (judged on the other side)."""
    if v is None:           # the attribute is missing
        return None
    try:
        return np.asarray(v, dtype=np.float64)
    except Exception:  # noqa: BLE001 - reported as it is
        return v


def _snap(v):
    """A copy of a returned array, so that a later in-place call cannot change what is reported."""
    return v.copy() if isinstance(v, np.ndarray) else v


@probe
def scaler(sub, kind, X_fit, X_apply=None, Z=None, feature_range=None, how="fit"):
    """Fit ``sub.<kind>`` on ``X_fit`` (by ``fit`` or ``fit_transform``), then transform ``X_fit``
    and ``X_apply`` and inverse-transform ``Z``; report the fitted attributes and the inputs
    as they are afterwards."""
    cls = getattr(sub, kind)
    sc = cls() if feature_range is None else cls(feature_range=feature_range)
    out = {}
    if how == "fit_transform":
        out["fit_transform"] = _snap(sc.fit_transform(X_fit))
    else:
        out["fit_returns_self"] = sc.fit(X_fit) is sc
    out.update({a: _arr(getattr(sc, a, None)) for a in ATTRS[kind]})
    out["train"] = _snap(sc.transform(X_fit))
    if X_apply is not None:
        out["test"] = _snap(sc.transform(X_apply))
    if Z is not None:
        out["inverse"] = _snap(sc.inverse_transform(Z))
    out["inputs_after"] = {"X_fit": X_fit, "X_apply": X_apply, "Z": Z}
    return out


@probe
def refit(sub, kind, X_first, X_second, X_apply, feature_range=None):
    """Fit on ``X_first``, fit again on ``X_second``, transform ``X_apply``."""
    cls = getattr(sub, kind)
    sc = cls() if feature_range is None else cls(feature_range=feature_range)
    sc.fit(X_first)
    sc.fit(X_second)
    out = {a: _arr(getattr(sc, a, None)) for a in ATTRS[kind]}
    out["test"] = sc.transform(X_apply)
    return out


def t(a):
    return torch.as_tensor(np.asarray(a, dtype=np.float64))


X3 = np.array([[1.0, 10.0], [2.0, 20.0], [6.0, 60.0]])


@check("StandardScaler learns per-column mean_, population var_ (divide by n) and scale_ = sqrt(var_)")
def standard_fit(run):
    got = run(scaler, "StandardScaler", X3)
    mean = X3.mean(axis=0)
    var = ((X3 - mean) ** 2).sum(axis=0) / 3                     # population: divide by n = 3, not n - 1
    expect_close(got["mean_"], t(mean), "mean_ is the mean of every column (axis 0)", what="mean_")
    expect_close(got["var_"], t(var), "var_ is the POPULATION variance: sum((x - mean)^2) / n (ddof=0)",
                 rtol=1e-9, what="var_")
    expect_close(got["scale_"], t(np.sqrt(var)), "scale_ = sqrt(var_)", rtol=1e-9, what="scale_")
    expect_close(got["train"], t((X3 - mean) / np.sqrt(var)), "transform(X) = (X - mean_) / scale_", rtol=1e-9,
                 what="transform of the fitted X")
    expect(got["fit_returns_self"] is True, "fit returns self (so that scaler.fit(X).transform(X) works)",
           f"fit returned something else (fit(X) is scaler: {got['fit_returns_self']})")


@check("transform uses the statistics learned in fit: a one-row test set is not standardised to 0")
def standard_test_uses_fitted_stats(run):
    X_train = np.array([[0.0], [2.0], [4.0]])                    # mean 2, std sqrt(8/3)
    X_test = np.array([[10.0]])
    got = run(scaler, "StandardScaler", X_train, X_apply=X_test)
    expect_close(got["test"], t((X_test - 2.0) / np.sqrt(8 / 3)), "transform applies the FITTED mean_ and scale_; "
                 "it never recomputes statistics from the data it is given (that leaks the test set)",
                 rtol=1e-9, what="transform([[10]]) after fit([[0], [2], [4]])")


@check("a constant column gets scale_ 1: StandardScaler maps it to 0, MinMaxScaler to the range's low end")
def constant_column(run):
    X = np.array([[3.0, 1.0], [3.0, 2.0], [3.0, 4.0]])           # column 0 is constant
    mean, std = X.mean(axis=0), X.std(axis=0)
    got = run(scaler, "StandardScaler", X, X_apply=np.array([[5.0, 2.0]]))
    rule = "a constant column (all values equal) has scale_ 1 instead of dividing by a standard deviation of 0"
    expect_close(got["scale_"], t([1.0, std[1]]), rule, rtol=1e-9, what="scale_ (column 0 is constant)")
    expect_close(got["train"], t([[0.0, (x - mean[1]) / std[1]] for x in (1.0, 2.0, 4.0)]), rule, rtol=1e-9,
                 what="transform of [[3, 1], [3, 2], [3, 4]]")
    expect_close(got["test"], t([[2.0, (2.0 - mean[1]) / std[1]]]), rule + " -- so 5.0 maps to (5 - 3) / 1 = 2",
                 rtol=1e-9, what="transform([[5, 2]])")
    got = run(scaler, "MinMaxScaler", X, feature_range=(-1.0, 1.0))
    expect_close(got["train"], t([[-1.0, -1.0], [-1.0, -1 / 3], [-1.0, 1.0]]), "MinMaxScaler maps a constant "
                 "column to a (its range counts as 1) and a varying one linearly onto [a, b]", rtol=1e-9,
                 what="MinMaxScaler(feature_range=(-1, 1)) of [[3, 1], [3, 2], [3, 4]]")


@check("MinMaxScaler maps the fitted min to a and max to b; inverse_transform undoes transform")
def minmax_and_inverse(run):
    X = np.array([[0.0, -5.0], [5.0, 0.0], [10.0, 15.0]])
    Z = np.array([[0.0, 0.5], [1.0, 0.75]])
    got = run(scaler, "MinMaxScaler", X, X_apply=np.array([[20.0, 5.0]]), Z=Z, feature_range=(0.0, 1.0))
    expect_close(got["train"], t([[0.0, 0.0], [0.5, 0.25], [1.0, 1.0]]),
                 "min-max scaling: a + (x - min) * (b - a) / (max - min), per column", rtol=1e-9,
                 what="transform of the fitted X")
    expect_close(got["test"], t([[2.0, 0.5]]), "values beyond the fitted range map beyond [a, b] (no clipping)",
                 rtol=1e-9, what="transform([[20, 5]])")
    expect_close(got["inverse"], t([[0.0, 5.0], [10.0, 10.0]]), "inverse_transform(Z) = (Z - min_) / scale_ "
                 "maps scaled values back to raw units", rtol=1e-9, what="inverse_transform")
