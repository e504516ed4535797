"""Visible checks: PCA of four points on the axes (variances with n - 1, ratios), of points on a
line (sign convention), transform / inverse_transform, and the ValueError for a bad n_components."""
import math

import torch

from mlkata.checks import Fail, check, describe, expect, expect_close, expect_equal, probe

ATTRS = ("mean_", "components_", "explained_variance_", "explained_variance_ratio_", "singular_values_",
         "n_components_")
MISSING = "__missing__"


@probe
def fit(sub, X, k=None, Xq=None, Z=None):
    """``sub.PCA(k).fit(X)``: its attributes, whether fit returned self, and optionally
    ``transform(Xq)`` / ``inverse_transform(Z)``; also X afterwards."""
    pca = sub.PCA(k)
    ret = pca.fit(X)
    out = {a: getattr(pca, a, MISSING) for a in ATTRS}
    out.update(returns_self=ret is pca, X_after=X)
    if Xq is not None:
        out["transform"] = pca.transform(Xq)
    if Z is not None:
        out["inverse"] = pca.inverse_transform(Z)
    return out


@probe
def raises(sub, X, k):
    """What ``sub.PCA(k).fit(X)`` raises (None if it returns)."""
    try:
        sub.PCA(k).fit(X)
    except NotImplementedError:
        raise
    except Exception as e:  # noqa: BLE001 - reported to the check
        return {"raised": type(e).__name__, "value_error": isinstance(e, ValueError), "message": str(e)[:200]}
    return {"raised": None, "value_error": False, "message": ""}


def attrs(got, k, d, what):
    """Judge side: every fitted attribute present, a tensor of the right shape (n_components_ an int)."""
    for a in ATTRS:
        v = got[a]
        if isinstance(v, str) and v == MISSING:
            raise Fail(f"fit sets the attribute {a}", f"{what}: the fitted PCA has no attribute {a}")
        if a == "n_components_":
            expect(isinstance(v, int) and not isinstance(v, bool), "n_components_ is the number of kept "
                   "components, an int", f"{what}: n_components_ is {describe(v)}")
            continue
        shape = {"mean_": (d,), "components_": (k, d)}.get(a, (k,))
        if not isinstance(v, torch.Tensor) or tuple(v.shape) != shape:
            raise Fail(f"{a} is a tensor of shape {list(shape)} (k = {k} kept components, d = {d} features)",
                       f"{what}: {a} is {describe(v)}")
    return got


def align(got_rows, want_rows):
    """``got_rows`` with each row's sign flipped to best match ``want_rows`` (components up to sign)."""
    s = torch.sign((got_rows.double() * want_rows.double()).sum(dim=1))
    s[s == 0] = 1
    return got_rows.double() * s.unsqueeze(1)


def expect_pca(got, want, rule, what, rtol=1e-9, atol=1e-9, exact_signs=False, comp_atol=1e-8):
    """Judge side: the fitted attributes against ``want`` (a dict of float64 tensors + n_components_)."""
    k, d = want["components_"].shape
    attrs(got, k, d, what)
    expect_equal(got["n_components_"], k, rule, what=f"n_components_ ({what})")
    expect_close(got["mean_"].double(), want["mean_"], "mean_ is the column mean of X", rtol=rtol, atol=atol,
                 what=f"mean_ ({what})")
    expect_close(got["explained_variance_"].double(), want["explained_variance_"], rule + " -- explained_variance_ "
                 "= S^2 / (n - 1), decreasing", rtol=rtol, atol=atol, what=f"explained_variance_ ({what})")
    expect_close(got["singular_values_"].double(), want["singular_values_"], rule + " -- singular_values_ are the "
                 "singular values S of the centred data", rtol=rtol, atol=atol, what=f"singular_values_ ({what})")
    expect_close(got["explained_variance_ratio_"].double(), want["explained_variance_ratio_"], rule + " -- the "
                 "ratio divides by the total variance of ALL min(n, d) components", rtol=rtol, atol=atol,
                 what=f"explained_variance_ratio_ ({what})")
    comps = got["components_"].double() if exact_signs else align(got["components_"], want["components_"])
    expect_close(comps, want["components_"], rule + (" -- each component's largest-|value| entry is positive"
                 if exact_signs else " -- components_ rows are the principal axes (compared up to sign)"),
                 rtol=0, atol=comp_atol, what=f"components_ ({what})")


F64 = torch.float64
AXES = torch.tensor([[-3.0, 0.0], [3.0, 0.0], [0.0, -1.0], [0.0, 1.0]], dtype=F64) + torch.tensor([1.0, 2.0],
                                                                                                   dtype=F64)


@check("four points on the axes: components [1, 0] and [0, 1], variances 18/3 and 2/3 (n - 1), ratios 0.9 and 0.1")
def axes(run):
    got = run(fit, AXES)
    want = {"mean_": torch.tensor([1.0, 2.0], dtype=F64), "components_": torch.eye(2, dtype=F64),
            "explained_variance_": torch.tensor([6.0, 2 / 3], dtype=F64),
            "explained_variance_ratio_": torch.tensor([0.9, 0.1], dtype=F64),
            "singular_values_": torch.tensor([math.sqrt(18), math.sqrt(2)], dtype=F64)}
    expect_pca(got, want, "PCA = SVD of the centred data; variances use the n - 1 denominator",
               "X = [[-2, 2], [4, 2], [1, 1], [1, 3]]", exact_signs=True)


@check("points on the line y = 2x: one component [1, 2] / sqrt(5), positive, variance 25/3, ratio 1")
def line(run):
    X = torch.tensor([[1.0, 2.0], [2.0, 4.0], [3.0, 6.0], [4.0, 8.0]], dtype=F64)
    got = run(fit, X, 1)
    want = {"mean_": torch.tensor([2.5, 5.0], dtype=F64),
            "components_": torch.tensor([[1.0, 2.0]], dtype=F64) / math.sqrt(5),
            "explained_variance_": torch.tensor([25 / 3], dtype=F64),
            "explained_variance_ratio_": torch.tensor([1.0], dtype=F64),
            "singular_values_": torch.tensor([5.0], dtype=F64)}
    expect_pca(got, want, "the first axis of points on a line is the line's unit direction, signed so that its "
               "largest-|value| entry is positive", "X on the line y = 2x, n_components=1", exact_signs=True)


@check("transform subtracts the training mean and projects; inverse_transform maps back")
def transform_inverse(run):
    got = run(fit, AXES, 1, torch.tensor([[4.0, 5.0], [1.0, 2.0]], dtype=F64), torch.tensor([[3.0], [-1.0]],
                                                                                             dtype=F64))
    expect_close(got["transform"], torch.tensor([[3.0], [0.0]], dtype=F64), "transform(X) = (X - mean_) @ "
                 "components_.T with the TRAINING mean", rtol=1e-9, atol=1e-9, what="transform([[4, 5], [1, 2]])")
    expect_close(got["inverse"], torch.tensor([[4.0, 2.0], [0.0, 2.0]], dtype=F64), "inverse_transform(Z) = "
                 "Z @ components_ + mean_", rtol=1e-9, atol=1e-9, what="inverse_transform([[3], [-1]])")


@check("n_components above min(n, d) or below 1 raises ValueError")
def bad_n_components(run):
    for k in (3, 0):
        got = run(raises, AXES, k)
        expect(got["value_error"], "fit raises ValueError unless 1 <= n_components <= min(n, d)",
               f"PCA({k}).fit(X of shape (4, 2)) " + (f"raised {got['raised']}: {got['message']}" if got["raised"]
                                                       else "returned without raising"))
