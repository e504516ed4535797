"""Hidden graders of coding/decision_stump: gini on random totals; fit_stump against a brute-force
search over every feature and midpoint threshold in float64 (tests/test_twins_coding_decision_stump.py
shows it picks scikit-learn's DecisionTreeClassifier(max_depth=1) split on tie-free data) on
continuous and heavily repeated values, with sample weights (integer weights = repeated rows);
the documented tie rule, leaf majorities, the no-split case, adjacent floats, values near 1e308,
float32 data compared in float64; predict_stump; untouched inputs."""
import math

import numpy as np
import torch

from mlkata.checks import Fail, check, describe, expect, expect_close, expect_equal, visible_module

V = visible_module("coding/decision_stump")

F64 = torch.float64
RULE = ("the best split has the largest gain G(parent) - (W_L/W) G(left) - (W_R/W) G(right) over every feature "
        "and every midpoint between consecutive distinct values")


# --------------------------------------------------------------------------------------------
# Oracle: brute force in float64
# --------------------------------------------------------------------------------------------

def _gini(t):
    W = float(t.sum())
    return 0.0 if W == 0 else 1.0 - float(((t / W) ** 2).sum())


def brute_stump(X, y, w=None):
    """Every feature, every midpoint of consecutive distinct values; gains within 1e-12 tie ->
    lowest feature, then lowest threshold.  Returns the Stump fields as a dict."""
    X64 = X.double()
    n, d = X64.shape
    C = int(y.max()) + 1
    w = torch.ones(n, dtype=F64) if w is None else w.double()

    def totals(mask):
        return torch.zeros(C, dtype=F64).index_add_(0, y[mask], w[mask])

    parent = totals(torch.ones(n, dtype=torch.bool))
    W, g_parent = float(parent.sum()), _gini(parent)
    cands = []
    for j in range(d):
        vals = sorted(set(X64[:, j].tolist()))
        for a, b in zip(vals, vals[1:]):
            t = a / 2 + b / 2
            if t == b:
                t = a
            go_left = X64[:, j] <= t
            tl, tr = totals(go_left), totals(~go_left)
            gain = g_parent - float(tl.sum()) / W * _gini(tl) - float(tr.sum()) / W * _gini(tr)
            cands.append((gain, j, t, tl, tr))
    if not cands:
        m = int(torch.argmax(parent))
        return dict(feature=-1, threshold=math.inf, left_class=m, right_class=m, gain=0.0)
    best = max(c[0] for c in cands)
    gain, j, t, tl, tr = next(c for c in cands if c[0] >= best - 1e-12)
    return dict(feature=j, threshold=t, left_class=int(torch.argmax(tl)), right_class=int(torch.argmax(tr)),
                gain=gain)


def oracle_predict(fields, X):
    if fields["feature"] < 0:
        return torch.full((X.shape[0],), fields["left_class"], dtype=torch.int64)
    left = X[:, fields["feature"]].double() <= fields["threshold"]
    return torch.where(left, fields["left_class"], fields["right_class"]).long()


def data(seed, n=None, d=None, C=None, levels=None, weights=False, dtype=F64):
    """Random (X, y, w): y depends on one feature through a noisy threshold; ``levels`` makes the
    features integer-valued (heavy repeats)."""
    g = torch.Generator().manual_seed(seed)
    n = n or int(torch.randint(8, 60, (), generator=g))
    d = d or int(torch.randint(1, 6, (), generator=g))
    C = C or int(torch.randint(2, 5, (), generator=g))
    X = torch.randn(n, d, generator=g, dtype=F64)
    if levels:
        X = torch.randint(0, levels, (n, d), generator=g).to(F64)
    j = int(torch.randint(0, d, (), generator=g))
    score = X[:, j] + 0.8 * torch.randn(n, generator=g, dtype=F64)
    y = torch.bucketize(score, torch.quantile(score, torch.linspace(0, 1, C + 1, dtype=F64)[1:-1]))
    flip = torch.rand(n, generator=g) < 0.15
    y = torch.where(flip, torch.randint(0, C, (n,), generator=g), y).long()
    w = torch.empty(n, dtype=F64).uniform_(0.1, 2.0, generator=g) if weights else None
    return X.to(dtype), y, w


# --------------------------------------------------------------------------------------------
# gini
# --------------------------------------------------------------------------------------------

@check("gini agrees with 1 - sum p^2 on random (batched) totals, keeps the dtype, and is 0 (not nan) for empty rows")
def gini_random(run):
    g = torch.Generator().manual_seed(0)
    counts = torch.rand(4, 3, 5, generator=g, dtype=F64) * 10
    counts[1, 2] = 0.0
    counts[3, 0, 1:] = 0.0                                                # pure
    total = counts.sum(-1, keepdim=True)
    want = torch.where(total[..., 0] > 0, 1 - ((counts / total.clamp_min(1e-300)) ** 2).sum(-1), 0.0)
    rule = "gini(counts) = 1 - sum_c (counts_c / total)^2 over the LAST dimension, 0 where the total is 0"
    expect_close(run(V.gini_probe, counts)["out"], want, rule, rtol=1e-12, atol=1e-12, what="gini of (4, 3, 5) totals",
                 check_dtype=True)
    got = run(V.gini_probe, counts.float())
    expect_close(got["out"], want.float(), rule + "; the result keeps counts' dtype (float32 here)", rtol=1e-5,
                 atol=1e-6, what="gini of float32 totals", check_dtype=True)
    expect_close(got["counts_after"], counts.float(), "gini must not modify counts", rtol=0, atol=0,
                 what="counts after gini")


# --------------------------------------------------------------------------------------------
# fit_stump against brute force
# --------------------------------------------------------------------------------------------

@check("fit_stump agrees with a brute-force search on random continuous data", points=2)
def agrees_random(run):
    for seed in range(8):
        X, y, _ = data(seed)
        V.expect_stump(run(V.fit, X, y), brute_stump(X, y), RULE,
                       f"n={X.shape[0]}, d={X.shape[1]}, C={int(y.max()) + 1}, seed {seed}")


@check("repeated values: cuts only between DISTINCT values, thresholds at their midpoints", points=2)
def repeated_values(run):
    for seed in range(10, 16):
        X, y, _ = data(seed, n=50, levels=4 + seed % 3)
        V.expect_stump(run(V.fit, X, y), brute_stump(X, y), "a cut between two EQUAL sorted values is no split "
                       "(both go the same way): only positions where sorted[i] < sorted[i + 1] are candidates",
                       f"integer features with {4 + seed % 3} levels, seed {seed}")


@check("sample weights enter every class total, every Gini and W_L / W", points=2)
def weighted(run):
    for seed in range(20, 26):
        X, y, w = data(seed, weights=True, levels=None if seed % 2 else 6)
        V.expect_stump(run(V.fit, X, y, w), brute_stump(X, y, w), "with sample weights every class total is a sum "
                       "of weights: G uses weighted fractions and the children count W_L / W, W_R / W by weight",
                       f"random weights in [0.1, 2], seed {seed}")


@check("an integer sample weight k is the same as repeating the row k times")
def weights_are_repeats(run):
    X, y, _ = data(30, n=25, d=3, C=3)
    k = torch.randint(1, 4, (25,), generator=torch.Generator().manual_seed(31))
    got_w = V.stump_of(run(V.fit, X, y, k.to(F64)), "integer weights")
    want = brute_stump(X.repeat_interleave(k, dim=0), y.repeat_interleave(k))
    for key in ("feature", "threshold", "left_class", "right_class"):
        expect_close(float(got_w[key]), float(want[key]), "an integer weight k must act exactly like k copies of the "
                     "row", rtol=1e-15, atol=0, what=f"{key} (weights vs repeated rows)")
    expect_close(got_w["gain"], want["gain"], "an integer weight k must act exactly like k copies of the row",
                 rtol=0, atol=1e-12, what="gain (weights vs repeated rows)")


# --------------------------------------------------------------------------------------------
# rules: ties, leaves, no split
# --------------------------------------------------------------------------------------------

@check("ties: a duplicated feature goes to its lowest index, mirrored thresholds to the lowest one")
def tie_breaking(run):
    X, y, _ = data(40, n=30, d=3)
    best = brute_stump(X, y)["feature"]
    Xd = torch.cat([X[:, [2, 1, 0]], X[:, [best]]], dim=1)               # the best column now appears twice
    V.expect_stump(run(V.fit, Xd, y), brute_stump(Xd, y), "gains within 1e-12 are tied: take the LOWEST feature "
                   "index (a duplicated column gives exactly equal gains)", "a duplicated best column")
    X = torch.tensor([[5.0, 1.0], [6.0, 2.0], [7.0, 3.0], [8.0, 4.0], [9.0, 5.0], [10.0, 6.0]], dtype=F64)
    y = torch.tensor([1, 0, 0, 0, 0, 1])
    V.expect_stump(run(V.fit, X, y), brute_stump(X, y), "mirror-image thresholds have equal gains (up to "
                   "rounding): take the lowest feature, then the LOWEST threshold", "y = [1, 0, 0, 0, 0, 1]")


@check("leaf classes: the class of largest total WEIGHT, the lowest label on a tie; labels may skip values")
def leaf_classes(run):
    X = torch.tensor([[0.0], [0.0], [0.0], [1.0], [1.0], [1.0], [1.0]], dtype=F64)
    y = torch.tensor([2, 0, 0, 3, 3, 1, 1])                       # left: 0 is the majority; right: 1 and 3 tie
    V.expect_stump(run(V.fit, X, y), brute_stump(X, y), "each leaf predicts the argmax of its class totals; on a "
                   "tie the lowest label (labels 0..C-1 with C = y.max() + 1, some absent)", "right leaf tied 1 vs 3")
    w = torch.tensor([5.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0], dtype=F64)   # the single 2 outweighs the two 0s
    V.expect_stump(run(V.fit, X, y, w), brute_stump(X, y, w), "the leaf class is the class of largest total "
                   "WEIGHT, not the most frequent one", "left leaf: one row of weight 5 vs two rows of weight 1")


@check("no two distinct values in any feature: Stump(-1, inf, majority, majority, 0), predicted everywhere")
def no_split(run):
    cases = [("constant features", torch.full((5, 2), 3.0, dtype=F64), torch.tensor([1, 0, 1, 2, 1])),
             ("a single row", torch.tensor([[0.5, -1.0]], dtype=F64), torch.tensor([2]))]
    for label, X, y in cases:
        got = run(V.fit, X, y, None, torch.tensor([[0.0, 0.0], [1e9, -1e9]], dtype=F64))
        want = brute_stump(X, y)
        V.expect_stump(got, want, "with no candidate split, fit_stump returns Stump(-1, inf, m, m, 0.0) with m the "
                       "majority class", label)
        expect_equal(got["pred"], torch.full((2,), want["left_class"]), "predict_stump of a stump with feature -1 "
                     "predicts left_class everywhere", what=f"predictions ({label})")


# --------------------------------------------------------------------------------------------
# exactness and extremes
# --------------------------------------------------------------------------------------------

@check("adjacent floats: when a / 2 + b / 2 rounds up to b the threshold is a, so b still goes right")
def adjacent_floats(run):
    a = 1.0 + 2.0 ** -52                                                   # odd last bit: the midpoint rounds to b
    b = float(np.nextafter(a, 2.0))
    X = torch.tensor([[a], [a], [b], [b]], dtype=F64)
    y = torch.tensor([0, 0, 1, 1])
    got = run(V.fit, X, y, None, X)
    t = V.stump_of(got, "adjacent floats")["threshold"]
    expect(t == a, "if the midpoint a / 2 + b / 2 of adjacent floats a < b rounds up to b, the threshold is a "
           "(else b would go left too)", f"a = {a!r}, b = {b!r}: expected threshold a, your code produced {t!r}"
           + (" (= b)" if t == b else ""))
    V.expect_stump(got, dict(feature=0, threshold=a, left_class=0, right_class=1, gain=0.5),
                   "if the midpoint of adjacent floats a < b rounds to b, the threshold is a (else b would go "
                   "left too)", "values 1 + 2^-52 and the next float")
    expect_equal(got["pred"], y, "rows equal to b are right of the threshold", what="predictions on the data")


@check("values near +-1e308 give a finite threshold (a / 2 + b / 2; a + b overflows)")
def huge_values(run):
    X = torch.tensor([[1.5e308, 0.0], [1.7e308, 0.0], [-1.7e308, 1.0], [1.6e308, 1.0]], dtype=F64)
    y = torch.tensor([0, 1, 0, 1])
    got = V.stump_of(run(V.fit, X, y), "values near 1e308")
    if not math.isfinite(got["threshold"]):
        raise Fail("compute the midpoint as a / 2 + b / 2: (a + b) / 2 is inf for values near 1e308",
                   f"the threshold came back as {got['threshold']}")
    V.expect_stump(run(V.fit, X, y), brute_stump(X, y), RULE, "values near 1e308")


@check("float32 data: thresholds are float64 midpoints and predictions compare in float64", points=2)
def float32_data(run):
    a = np.float32(1.0 + 2.0 ** -23)                                       # odd last bit in float32
    b = np.nextafter(a, np.float32(2.0))
    X = torch.tensor([[a, 0.0], [a, 1.0], [b, 0.0], [b, 1.0], [a, 2.0]], dtype=torch.float32)
    y = torch.tensor([0, 0, 1, 1, 0])
    got = run(V.fit, X, y, None, X)
    V.expect_stump(got, brute_stump(X, y), "the threshold is the float64 midpoint a / 2 + b / 2 of the float32 "
                   "values (exact in float64), not a float32 rounding of it", "adjacent float32 values")
    expect_equal(got["pred"], y, "predict_stump compares X[:, feature].double() <= threshold: comparing the "
                 "float32 column with a Python float happens in float32 and rounds the threshold onto b",
                 what="predictions on adjacent float32 values")
    X, y, w = data(50, n=40, d=3, weights=True, dtype=torch.float32)
    V.expect_stump(run(V.fit, X, y, w.float()), brute_stump(X, y, w.float()), RULE + " (float32 data)",
                   "random float32 data with float32 weights", gain_tol=1e-6)


# --------------------------------------------------------------------------------------------
# predict, scale, inputs
# --------------------------------------------------------------------------------------------

@check("predict_stump on random data: int64 (n,), x <= threshold goes left, in float64 and float32")
def predict_random(run):
    g = torch.Generator().manual_seed(60)
    for dtype in (F64, torch.float32):
        X = torch.randn(40, 4, generator=g, dtype=F64).to(dtype)
        X[:5, 2] = float(X[5, 2])                                           # some rows exactly at the threshold
        fields = dict(feature=2, threshold=float(X[5, 2]), left_class=3, right_class=1, gain=0.2)
        got = run(V.predict, tuple(fields.values()), X)
        expect(isinstance(got, torch.Tensor) and got.dtype == torch.int64, "predict_stump returns an int64 tensor "
               "of shape (n,)", f"predict_stump returned {describe(got)}")
        expect_equal(got, oracle_predict(fields, X), "rows with X[:, feature] <= threshold (equality included) "
                     "get left_class, the others right_class", what=f"predictions ({dtype})")


@check("n = 3000 rows, 6 features, 20 levels each, with weights: still the brute-force answer")
def larger(run):
    X, y, w = data(70, n=3000, d=6, C=3, levels=20, weights=True)
    got = run(V.fit, X, y, w, X)
    want = brute_stump(X, y, w)
    V.expect_stump(got, want, RULE, "n=3000, d=6, weighted")
    expect_equal(got["pred"], oracle_predict(want, X), "predict_stump of the fitted stump", what="predictions")


@check("X, y and sample_weight are not modified")
def inputs_untouched(run):
    X, y, w = data(80, n=30, d=3, weights=True)
    got = run(V.fit, X, y, w)
    V.expect_stump(got, brute_stump(X, y, w), RULE, "n=30, d=3, weighted")
    for key, want in (("X_after", X), ("y_after", y), ("w_after", w)):
        if not torch.equal(got[key], want):
            raise Fail("fit_stump must not modify its inputs (sort a copy: X.sort() returns one, in-place sorting "
                       "changes the caller's data)", f"{key.split('_')[0]} changed")
