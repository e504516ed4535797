"""Visible checks: Gini values, a split by hand, the better of two features, the tie rule, and
predict_stump."""
import torch

from mlkata.checks import Fail, check, describe, expect_close, expect_equal, probe

FIELDS = ("feature", "threshold", "left_class", "right_class", "gain")


@probe
def gini_probe(sub, counts):
    return {"out": sub.gini(counts), "counts_after": counts}


@probe
def fit(sub, X, y, w=None, Xq=None):
    """``sub.fit_stump`` as a dict of its five fields (and predictions on ``Xq`` when given)."""
    out = sub.fit_stump(X, y, w)
    got = {"raw": out}
    if isinstance(out, tuple) and len(out) == 5:
        got = dict(zip(FIELDS, tuple(out)))
        if Xq is not None:
            got["pred"] = sub.predict_stump(out, Xq)
    got.update(X_after=X, y_after=y, w_after=w)
    return got


@probe
def predict(sub, fields, X):
    """``sub.predict_stump`` of the stump with the given five fields."""
    make = getattr(sub, "Stump", None)
    stump = make(*fields) if make is not None else tuple(fields)
    return sub.predict_stump(stump, X)


def stump_of(got, what, rule="fit_stump returns Stump(feature, threshold, left_class, right_class, gain)"):
    """Judge side: the five fields as Python numbers, or a Fail naming what came back."""
    if "raw" in got:
        raise Fail(rule, f"{what}: expected a Stump (a 5-field tuple), your code returned {describe(got['raw'])}")
    out = {}
    for key in FIELDS:
        v = got[key]
        if isinstance(v, torch.Tensor) and v.numel() == 1:
            v = v.item()
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise Fail(rule + " -- Python numbers", f"{what}: {key} is {describe(got[key])}")
        if key in ("feature", "left_class", "right_class"):
            if float(v) != int(v):
                raise Fail(rule + f" -- {key} is an int", f"{what}: {key} = {v!r}")
            v = int(v)
        out[key] = v
    return out


def expect_stump(got, want, rule, what, gain_tol=1e-12):
    """Judge side: the fields of ``got`` against the dict ``want`` (threshold exact to 1e-15)."""
    s = stump_of(got, what)
    expect_equal(s["feature"], want["feature"], rule, what=f"feature ({what})")
    expect_close(s["threshold"], want["threshold"], rule, rtol=1e-15, atol=0, what=f"threshold ({what})")
    expect_equal(s["left_class"], want["left_class"], rule + " -- the leaf predicts its class of largest "
                 "total weight", what=f"left_class ({what})")
    expect_equal(s["right_class"], want["right_class"], rule + " -- the leaf predicts its class of largest "
                 "total weight", what=f"right_class ({what})")
    expect_close(s["gain"], want["gain"], rule + " -- gain = G(parent) - (W_L/W) G(left) - (W_R/W) G(right)",
                 rtol=0, atol=gain_tol, what=f"gain ({what})")
    return s


F64 = torch.float64


@check("gini of class totals [5, 5, 0], [10, 0, 0], [0, 0, 0], [1, 1, 1] is 0.5, 0, 0, 2/3")
def gini_values(run):
    counts = torch.tensor([[5.0, 5.0, 0.0], [10.0, 0.0, 0.0], [0.0, 0.0, 0.0], [1.0, 1.0, 1.0]], dtype=F64)
    expect_close(run(gini_probe, counts)["out"], torch.tensor([0.5, 0.0, 0.0, 2 / 3], dtype=F64),
                 "gini = 1 - sum_c (counts_c / total)^2 along the last dimension; an empty node (total 0) has "
                 "impurity 0, not nan", rtol=1e-12, atol=1e-12, what="gini(counts)")


@check("x = [1, 2, 3, 4], y = [0, 0, 1, 1]: split at the midpoint 2.5, leaves 0 | 1, gain 0.5")
def simple_split(run):
    X = torch.tensor([[1.0], [2.0], [3.0], [4.0]], dtype=F64)
    got = run(fit, X, torch.tensor([0, 0, 1, 1]))
    expect_stump(got, dict(feature=0, threshold=2.5, left_class=0, right_class=1, gain=0.5),
                 "the threshold is the midpoint between two consecutive distinct values; the parent's Gini 0.5 "
                 "drops to 0 in both pure children", "x = [1, 2, 3, 4], y = [0, 0, 1, 1]")


@check("of two features the one that separates the classes wins: feature 1 at 15")
def better_feature(run):
    X = torch.tensor([[1.0, 10.0], [2.0, 20.0], [3.0, 10.0], [4.0, 20.0]], dtype=F64)
    got = run(fit, X, torch.tensor([0, 1, 0, 1]))
    expect_stump(got, dict(feature=1, threshold=15.0, left_class=0, right_class=1, gain=0.5),
                 "try every feature and keep the split of largest gain", "X = [[1, 10], [2, 20], [3, 10], [4, 20]]")


@check("ties go to the lowest threshold: x = [1, 2, 3, 4], y = [0, 1, 1, 0] splits at 1.5, not 3.5")
def tie_lowest_threshold(run):
    X = torch.tensor([[1.0], [2.0], [3.0], [4.0]], dtype=F64)
    got = run(fit, X, torch.tensor([0, 1, 1, 0]))
    # 1.5: left {0} pure, right {1, 1, 0}: gain 0.5 - 3/4 * 4/9 = 1/6; 3.5 is the mirror image, same gain
    expect_stump(got, dict(feature=0, threshold=1.5, left_class=0, right_class=1, gain=1 / 6),
                 "gains within 1e-12 are tied; a tie goes to the lowest feature, then the lowest threshold",
                 "x = [1, 2, 3, 4], y = [0, 1, 1, 0]")


@check("predict_stump sends x <= threshold left: Stump(1, 0.5, 2, 0, ...) on three rows")
def predict_rule(run):
    X = torch.tensor([[9.0, 0.25], [-9.0, 0.5], [0.0, 0.75]], dtype=F64)
    got = run(predict, (1, 0.5, 2, 0, 0.1), X)
    expect_equal(got, torch.tensor([2, 2, 0]), "rows with X[:, feature] <= threshold get left_class (the equal "
                 "one too), the others right_class; int64 of shape (n,)", what="predict_stump")
