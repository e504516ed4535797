"""Hidden graders of fairness/disparity_audit: the per-group, overall, difference, ratio and flag
results against a plain-Python counting oracle (groups keyed by tuples of feature values) on
random data with one, two and three sensitive features; intersectional groups (only the
combinations that occur, lexicographic order, an id encoding that cannot collide); undefined
metrics (NaN, left out of the gaps, never flagged), all-zero ratios, the strict tolerance, one
group, dtypes and untouched inputs.  fairlearn is not a grading-time dependency;
tests/test_twins_fairness_disparity_audit.py checks this oracle and the reference against
scikit-learn's metrics per group (and fairlearn's MetricFrame, when it is installed)."""
import math

import torch

from mlkata.checks import Fail, check, describe, expect, expect_close, expect_equal, visible_module

V = visible_module("fairness/disparity_audit")
METRICS = V.METRICS
NAN = math.nan
TOL = dict(rtol=1e-12, atol=1e-12)


# --------------------------------------------------------------------------------------------
# Oracle: counting loops, groups keyed by tuples
# --------------------------------------------------------------------------------------------

def _metrics(tp, fp, fn, tn):
    div = lambda a, b: a / b if b else NAN  # noqa: E731
    n = tp + fp + fn + tn
    return {"accuracy": div(tp + tn, n), "precision": div(tp, tp + fp), "recall": div(tp, tp + fn),
            "fpr": div(fp, fp + tn), "selection_rate": div(tp + fp, n)}


def oracle(y_true, y_pred, sensitive, tolerance):
    t = [int(v != 0) for v in y_true.tolist()]
    p = [int(v != 0) for v in y_pred.tolist()]
    keys = [tuple(r) if isinstance(r, list) else (r,) for r in sensitive.tolist()]
    groups = sorted(set(keys))
    cells = {g: [0, 0, 0, 0] for g in groups}                     # TP, FP, FN, TN
    for ti, pi, k in zip(t, p, keys):
        cells[k][{(1, 1): 0, (0, 1): 1, (1, 0): 2, (0, 0): 3}[ti, pi]] += 1
    per = [_metrics(*cells[g]) for g in groups]
    tot = [sum(cells[g][j] for g in groups) for j in range(4)]
    by_group = {m: torch.tensor([r[m] for r in per], dtype=torch.float64) for m in METRICS}
    difference, ratio = {}, {}
    for m in METRICS:
        d = [r[m] for r in per if not math.isnan(r[m])]
        difference[m] = max(d) - min(d) if d else NAN
        ratio[m] = NAN if not d else 1.0 if max(d) == 0 else min(d) / max(d)
    g_tensor = torch.tensor([list(g) for g in groups] if sensitive.dim() == 2 else [g[0] for g in groups],
                            dtype=sensitive.dtype)
    return {"groups": g_tensor, "index": torch.tensor([groups.index(k) for k in keys]),
            "count": torch.tensor([sum(cells[g]) for g in groups]), "overall": _metrics(*tot),
            "by_group": by_group, "difference": difference, "ratio": ratio,
            "flagged": [m for m in METRICS if difference[m] > tolerance]}


def dataset(seed, k=0, n=None):
    """Random labels and predictions whose error rates depend on the group; ``k`` = 0 for a 1-D
    feature, else an (n, k) matrix of k features with a few values each."""
    g = torch.Generator().manual_seed(seed)
    n = n or int(torch.randint(40, 300, (), generator=g))
    if k == 0:
        ids = torch.randperm(80, generator=g)[:int(torch.randint(2, 6, (), generator=g))] - 40
        sens = ids[torch.randint(0, ids.numel(), (n,), generator=g)]
        code = torch.searchsorted(ids.sort().values, sens)
    else:
        cols = []
        for _ in range(k):
            vals = torch.randperm(40, generator=g)[:int(torch.randint(2, 4, (), generator=g))] - 15
            cols.append(vals[torch.randint(0, vals.numel(), (n,), generator=g)])
        sens = torch.stack(cols, dim=1)                                         # (n, k)
        first = torch.stack([c.min() for c in cols[:2]])
        sens = sens[~(sens[:, :2] == first).all(1)]           # one combination of values never occurs
        n = sens.shape[0]
        code = (sens - sens.min()).sum(1) % 7
    base = torch.rand(8, generator=g)[code % 8]
    y = (torch.rand(n, generator=g) < base).long()
    flip = torch.rand(8, generator=g)[code % 8] * 0.6
    p = torch.where(torch.rand(n, generator=g) < flip, 1 - y, y)
    return y, p, sens


def expect_report(got, want, what):
    got = V.report(got, what)
    expect_equal(got["groups"], want["groups"], "groups are the distinct values (rows, with several features) that "
                 "occur, in ascending lexicographic order", what=f"groups ({what})")
    expect_equal(got["count"], want["count"], "count is the number of samples in each group", what=f"count ({what})")
    for m in METRICS:
        expect_close(got["by_group"][m], want["by_group"][m], V.RULES[m] + " within each group, NaN where the "
                     "denominator is 0", what=f"by_group[{m!r}] ({what})", **TOL)
    return got


def expect_gaps(got, want, what):
    for m in METRICS:
        expect_close(got["difference"][m], want["difference"][m], "difference = max - min over the groups where the "
                     "metric is defined (NaN values left out)", what=f"difference[{m!r}] ({what})", **TOL)
        expect_close(got["ratio"][m], want["ratio"][m], "ratio = min / max over the groups where the metric is "
                     "defined (1.0 when all are 0)", what=f"ratio[{m!r}] ({what})", **TOL)


# --------------------------------------------------------------------------------------------
# Agreement with the oracle
# --------------------------------------------------------------------------------------------

@check("by_group agrees with per-group counting on random data (one feature, arbitrary ids)", points=2)
def by_group_agrees(run):
    for seed in range(8):
        y, p, s = dataset(seed)
        expect_report(run(V.audit, y, p, s)["out"], oracle(y, p, s, 0.1), f"seed {seed}")


@check("overall agrees with the metrics of all samples pooled (not a mean of the groups)")
def overall_agrees(run):
    for seed in range(10, 16):
        y, p, s = dataset(seed)
        got = V.report(run(V.audit, y, p, s)["out"], f"seed {seed}")
        want = oracle(y, p, s, 0.1)["overall"]
        for m in METRICS:
            expect_close(got["overall"][m], want[m], V.RULES[m] + " over all samples at once",
                         what=f"overall[{m!r}] (seed {seed})", **TOL)
            expect(isinstance(got["overall"][m], float), "overall values are Python floats",
                   f"overall[{m!r}]: your code returned {describe(got['overall'][m])}")


@check("difference and ratio agree with max - min and min / max of the defined group values", points=2)
def gaps_agree(run):
    for seed in range(20, 28):
        y, p, s = dataset(seed)
        expect_gaps(V.report(run(V.audit, y, p, s)["out"], f"seed {seed}"), oracle(y, p, s, 0.1), f"seed {seed}")


@check("flagged lists the metrics with difference > tolerance, in METRICS order, for several tolerances")
def flags_agree(run):
    for seed, tol in zip(range(30, 36), (0.0, 0.05, 0.1, 0.2, 0.3, 1.0)):
        y, p, s = dataset(seed)
        got = V.report(run(V.audit, y, p, s, tol)["out"], f"seed {seed}")
        expect_equal(got["flagged"], oracle(y, p, s, tol)["flagged"], "flag a metric when its difference is "
                     "strictly greater than the tolerance argument; list flags in the order of METRICS",
                     what=f"flagged (seed {seed}, tolerance {tol})")
    for seed in range(30, 42):
        y, p, s = dataset(seed)
        got = V.report(run(V.audit, y, p, s)["out"], f"seed {seed}, default tolerance")
        expect_equal(got["flagged"], oracle(y, p, s, 0.1)["flagged"], "the default tolerance is 0.1",
                     what=f"flagged (seed {seed}, default tolerance)")


@check("two and three sensitive features: intersectional groups, counts and metrics agree", points=2)
def intersection_agrees(run):
    for seed, k in zip(range(40, 46), (2, 2, 2, 3, 3, 2)):
        y, p, s = dataset(seed, k=k)
        want = oracle(y, p, s, 0.1)
        got = run(V.groups_of, s)
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            raise Fail("intersectional_groups returns (groups, index)", f"your code returned {describe(got)}")
        expect_equal(got[0], want["groups"], "the groups are the distinct rows of feature values that occur, "
                     "sorted lexicographically", what=f"groups ({k} features, seed {seed})")
        expect_equal(got[1], want["index"], "index[i] is the position of sample i's row in groups",
                     what=f"index ({k} features, seed {seed})")
        audit = expect_report(run(V.audit, y, p, s)["out"], want, f"{k} features, seed {seed}")
        expect_gaps(audit, want, f"{k} features, seed {seed}")


@check("feature values that would collide under a naive encoding (a*10 + b) stay separate groups")
def no_collisions(run):
    # (1, 2) vs (0, 12), (2, -5) vs (1, 5): equal under a*10 + b; (3, 0) vs (0, 3): equal under a + b
    s = torch.tensor([[1, 2], [0, 12], [2, -5], [1, 5], [3, 0], [0, 3], [1, 2], [0, 12]])
    y = torch.tensor([1, 0, 1, 0, 1, 0, 0, 1])
    p = torch.tensor([1, 1, 0, 0, 1, 1, 1, 1])
    want = oracle(y, p, s, 0.1)
    expect_report(run(V.audit, y, p, s)["out"], want, "colliding encodings")


# --------------------------------------------------------------------------------------------
# Undefined values and other edge cases
# --------------------------------------------------------------------------------------------

@check("a group with no predicted positives has precision NaN, left out of the difference (not 0)", points=2)
def undefined_metrics(run):
    # group 4 predicts nobody positive (precision undefined); group 6 has no actual negatives (fpr undefined)
    s = torch.tensor([2, 2, 2, 2, 4, 4, 4, 6, 6, 6])
    y = torch.tensor([1, 0, 1, 0, 1, 0, 0, 1, 1, 1])
    p = torch.tensor([1, 1, 1, 0, 0, 0, 0, 1, 0, 1])
    want = oracle(y, p, s, 0.1)
    got = V.report(run(V.audit, y, p, s)["out"], "undefined precision and fpr")
    prec = got["by_group"]["precision"]
    if isinstance(prec, torch.Tensor) and prec.shape == (3,) and not math.isnan(float(prec[1])):
        raise Fail("precision of a group with no predicted positives is 0 / 0: NaN, not a number",
                   f"groups [2, 4, 6], group 4 predicts no positives: expected precision nan, your code produced "
                   f"{float(prec[1]):.6g}")
    expect_report(got, want, "undefined precision and fpr")
    expect_gaps(got, want, "undefined precision and fpr")
    expect_equal(got["flagged"], want["flagged"], "flags come from the differences over defined values only",
                 what="flagged")


@check("a metric undefined in every group has NaN difference and ratio and is never flagged")
def undefined_everywhere(run):
    s = torch.tensor([0, 0, 1, 1, 1])
    y = torch.tensor([1, 0, 1, 1, 0])
    p = torch.zeros(5, dtype=torch.long)                       # nobody predicted positive: precision undefined
    want = oracle(y, p, s, 0.0)
    got = V.report(run(V.audit, y, p, s, 0.0)["out"], "no predicted positives at all")
    expect_close(got["difference"]["precision"], NAN, "with no group where precision is defined, its difference "
                 "is NaN", what="difference['precision']")
    expect_close(got["overall"]["precision"], NAN, "overall precision with no predicted positives is NaN",
                 what="overall['precision']")
    expect_gaps(got, want, "no predicted positives")
    expect_equal(got["flagged"], want["flagged"], "a NaN difference is never flagged (even at tolerance 0)",
                 what="flagged")


@check("a difference exactly equal to the tolerance is not flagged; all-zero values give ratio 1")
def boundary_and_zero_ratio(run):
    s = torch.tensor([0, 0, 0, 0, 1, 1, 1, 1])
    y = torch.tensor([0, 0, 0, 0, 0, 0, 0, 0])
    p = torch.tensor([1, 1, 1, 0, 1, 1, 0, 0])                 # selection 3/4 and 1/2: difference exactly 0.25
    got = V.report(run(V.audit, y, p, s, 0.25)["out"], "difference equal to the tolerance")
    expect(isinstance(got["flagged"], list) and "selection_rate" not in got["flagged"],
           "flag only when difference > tolerance: a difference of exactly 0.25 at tolerance 0.25 is not flagged",
           f"flagged = {got['flagged']!r}")
    expect_close(got["ratio"]["recall"], NAN, "recall is undefined everywhere (no positives): ratio NaN",
                 what="ratio['recall']")
    p = torch.zeros(8, dtype=torch.long)
    got = V.report(run(V.audit, y, p, s)["out"], "nobody selected")
    expect_close(got["ratio"]["selection_rate"], 1.0, "when every group's value is 0 the ratio is 1.0 (no "
                 "disparity), not 0 / 0", what="ratio['selection_rate']")


@check("a single group: every difference is 0 and every defined ratio 1, nothing flagged")
def single_group(run):
    y, p, _ = dataset(50)
    got = V.report(run(V.audit, y, p, torch.full((y.numel(),), 9), 0.0)["out"], "one group")
    for m in METRICS:
        expect_close(got["difference"][m], 0.0, "one group: max - min of one value is 0", what=f"difference[{m!r}]")
        expect_close(got["ratio"][m], 1.0, "one group: min / max of one value is 1", what=f"ratio[{m!r}]")
    expect_equal(got["flagged"], [], "with tolerance 0 and all differences 0 nothing is flagged", what="flagged")


@check("bool labels, float predictions, int32 ids; float64 results; inputs unchanged")
def dtypes_and_inputs(run):
    y, p, s = dataset(60, k=2)
    want = oracle(y, p, s.int(), 0.1)
    args = [y.bool(), p.float(), s.int()]
    before = [a.clone() for a in args]
    got = run(V.audit, *args)
    audit = expect_report(got["out"], want, "bool / float / int32 inputs")
    for m in METRICS:
        expect(audit["by_group"][m].dtype == torch.float64, "by_group values are float64 tensors",
               f"by_group[{m!r}] has dtype {audit['by_group'][m].dtype}")
    for b, a, arg in zip(before, got["inputs_after"], ("y_true", "y_pred", "sensitive")):
        expect(isinstance(a, torch.Tensor) and a.dtype == b.dtype and torch.equal(a, b),
               "disparity_audit must not modify its inputs", f"{arg} changed")
