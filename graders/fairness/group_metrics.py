"""Hidden graders of fairness/group_metrics: per-group rates, demographic parity difference,
equalized odds difference and the disparate impact ratio against a plain-Python loop oracle on
random datasets (2 to 6 groups with arbitrary integer ids), plus the edge cases of the contract:
a group with no positives (TPR NaN, left out of the gap -- fairlearn would report 0), a group
with no negatives, no positives anywhere, nobody selected (ratio 1.0), the four-fifths boundary,
one group, groups of size 1, label dtypes and untouched inputs.  fairlearn is not a grading-time
dependency; tests/test_twins_fairness_group_metrics.py checks this oracle and the reference
against scikit-learn's per-group metrics (and fairlearn's, when it is installed)."""
import math

import torch

from mlkata.checks import Fail, check, expect, expect_close, expect_equal, visible_module

V = visible_module("fairness/group_metrics")
NAN = math.nan
TOL = dict(rtol=1e-12, atol=1e-12)


# --------------------------------------------------------------------------------------------
# Oracle: loops over plain Python lists
# --------------------------------------------------------------------------------------------

def oracle(y_true, y_pred, sensitive):
    """Per-group counts and rates by counting, plus the three summaries (NaN where undefined)."""
    t = [int(v != 0) for v in y_true.tolist()]
    p = [int(v != 0) for v in y_pred.tolist()]
    s = sensitive.tolist()
    groups = sorted(set(s))
    count, sel, tpr, fpr = [], [], [], []
    for g in groups:
        members = [i for i in range(len(s)) if s[i] == g]
        pos = [i for i in members if t[i] == 1]
        neg = [i for i in members if t[i] == 0]
        count.append(len(members))
        sel.append(sum(p[i] for i in members) / len(members))
        tpr.append(sum(p[i] for i in pos) / len(pos) if pos else NAN)
        fpr.append(sum(p[i] for i in neg) / len(neg) if neg else NAN)

    def spread(v):
        d = [x for x in v if not math.isnan(x)]
        return max(d) - min(d) if d else NAN

    gaps = [x for x in (spread(tpr), spread(fpr)) if not math.isnan(x)]
    f64 = lambda v: torch.tensor(v, dtype=torch.float64)  # noqa: E731
    return {"groups": torch.tensor(groups, dtype=sensitive.dtype), "count": torch.tensor(count),
            "selection_rate": f64(sel), "tpr": f64(tpr), "fpr": f64(fpr),
            "dpd": max(sel) - min(sel), "eod": max(gaps),
            "ratio": 1.0 if max(sel) == 0 else min(sel) / max(sel)}


def dataset(seed, both_classes=True):
    """Random (y_true, y_pred, sensitive): 2-6 groups with arbitrary integer ids and their own
    base and selection rates; with ``both_classes`` every group holds a positive and a negative."""
    g = torch.Generator().manual_seed(seed)
    G = int(torch.randint(2, 7, (), generator=g))
    ids = torch.randperm(200, generator=g)[:G] - 100                          # distinct, may be negative
    n = int(torch.randint(20, 300, (), generator=g))
    sensitive = ids[torch.randint(0, G, (n,), generator=g)]
    base = torch.rand(G, generator=g)[torch.searchsorted(ids.sort().values, sensitive)]
    y_true = (torch.rand(n, generator=g) < base).long()
    sel = torch.rand(G, generator=g)[torch.searchsorted(ids.sort().values, sensitive)]
    y_pred = (torch.rand(n, generator=g) < 0.5 * sel + 0.5 * y_true * sel.sqrt()).long()
    if both_classes:                                 # plant one positive and one negative per group
        extra = ids.repeat_interleave(2)
        sensitive = torch.cat([sensitive, extra])
        y_true = torch.cat([y_true, torch.tensor([1, 0]).repeat(G)])
        y_pred = torch.cat([y_pred, torch.randint(0, 2, (2 * G,), generator=g)])
    return y_true, y_pred, sensitive


def expect_rates(got, want, what):
    got = V.rate_table(got, what)
    expect_equal(got["groups"], want["groups"], "groups are the distinct ids of sensitive, in ascending order "
                 "(ids can be any integers: negative, not contiguous)", what=f"groups ({what})")
    expect_equal(got["count"], want["count"], "count is the number of samples in each group",
                 what=f"count ({what})")
    expect_close(got["selection_rate"], want["selection_rate"], "selection rate = predicted positives / group size",
                 what=f"selection_rate ({what})", **TOL)
    expect_close(got["tpr"], want["tpr"], "TPR = true positives / actual positives of the group, NaN when the "
                 "group has no actual positives", what=f"tpr ({what})", **TOL)
    expect_close(got["fpr"], want["fpr"], "FPR = false positives / actual negatives of the group, NaN when the "
                 "group has no actual negatives", what=f"fpr ({what})", **TOL)


def expect_float(got, want, rule, what):
    expect_close(got, want, rule, what=what, **TOL)


# --------------------------------------------------------------------------------------------
# Agreement with the oracle on random data
# --------------------------------------------------------------------------------------------

@check("group_rates agrees with a counting loop on random data (2-6 groups, arbitrary integer ids)", points=2)
def rates_agree(run):
    for seed in range(8):
        y_true, y_pred, sensitive = dataset(seed)
        expect_rates(run(V.rates, y_true, y_pred, sensitive)["out"], oracle(y_true, y_pred, sensitive),
                     f"random dataset, seed {seed}")


@check("demographic_parity_difference agrees with max - min selection rate on random data", points=2)
def dpd_agrees(run):
    for seed in range(10, 18):
        y_true, y_pred, sensitive = dataset(seed)
        expect_float(run(V.summaries, y_true, y_pred, sensitive)["dpd"], oracle(y_true, y_pred, sensitive)["dpd"],
                     "demographic parity difference = max - min of the groups' selection rates",
                     f"demographic_parity_difference (seed {seed})")


@check("equalized_odds_difference agrees with max(TPR gap, FPR gap) on random data", points=2)
def eod_agrees(run):
    for seed in range(20, 28):
        y_true, y_pred, sensitive = dataset(seed)
        expect_float(run(V.summaries, y_true, y_pred, sensitive)["eod"], oracle(y_true, y_pred, sensitive)["eod"],
                     "equalized odds difference = the larger of (max - min TPR) and (max - min FPR) across groups",
                     f"equalized_odds_difference (seed {seed})")


@check("disparate_impact agrees with min / max selection rate and the threshold test on random data", points=2)
def di_agrees(run):
    for seed in range(30, 38):
        y_true, y_pred, sensitive = dataset(seed)
        want = oracle(y_true, y_pred, sensitive)["ratio"]
        for threshold in (0.8, 0.5):
            ratio, passes = V.ratio_and_flag(run(V.summaries, y_true, y_pred, sensitive, threshold)["di"],
                                             f"seed {seed}, threshold {threshold}")
            expect_float(ratio, want, "disparate impact ratio = min / max of the groups' selection rates",
                         f"ratio (seed {seed})")
            expect_equal(passes, want >= threshold, "passes is True exactly when ratio >= threshold "
                         "(the threshold argument, 0.8 by default)", what=f"passes (seed {seed}, ratio {want:.4f}, "
                         f"threshold {threshold})")


# --------------------------------------------------------------------------------------------
# Undefined rates
# --------------------------------------------------------------------------------------------

# group 5 has no actual positives: TPRs 1, undefined, 1/3 -> gap 2/3 (with the undefined TPR as 0 it
# would be 1); FPRs 0, 0, 0 -> gap 0
S_NOPOS = torch.tensor([2, 2, 2, 2, 5, 5, 5, 9, 9, 9, 9])
Y_NOPOS = torch.tensor([1, 1, 0, 0, 0, 0, 0, 1, 1, 1, 0])
P_NOPOS = torch.tensor([1, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0])


@check("a group with no actual positives has TPR NaN, and is left out of the TPR gap (not counted as 0)", points=2)
def no_positives_group(run):
    want = oracle(Y_NOPOS, P_NOPOS, S_NOPOS)
    got = V.rate_table(run(V.rates, Y_NOPOS, P_NOPOS, S_NOPOS)["out"], "group 5 has no actual positives")
    tpr = got["tpr"]
    if tpr.shape == (3,) and not math.isnan(float(tpr[1])):
        raise Fail("a group with no actual positives has no TPR: return NaN (0 / 0), not a number",
                   f"groups [2, 5, 9], group 5 has labels [0, 0, 0]: expected tpr[1] = nan, your code produced "
                   f"{float(tpr[1]):.6g}")
    expect_rates(got, want, "group 5 has no actual positives")
    expect_float(run(V.summaries, Y_NOPOS, P_NOPOS, S_NOPOS)["eod"], want["eod"],
                 "the TPR gap is max - min over the groups whose TPR is defined: group 5 (no positives) takes no "
                 "part; counting its TPR as 0 would report a gap of 1 instead of 2/3",
                 "equalized_odds_difference (TPRs 1, undefined, 1/3; FPRs all 0)")


@check("a group with no actual negatives has FPR NaN, and is left out of the FPR gap")
def no_negatives_group(run):
    s = torch.tensor([0, 0, 0, 1, 1, 1, 1, 2, 2])
    y = torch.tensor([0, 1, 0, 1, 1, 1, 1, 0, 1])
    p = torch.tensor([1, 1, 1, 0, 1, 1, 1, 1, 1])        # FPR: 1, nan, 1 -> gap 0; TPR: 1, 3/4, 1 -> gap 1/4
    want = oracle(y, p, s)
    expect_rates(run(V.rates, y, p, s)["out"], want, "group 1 has no actual negatives")
    expect_float(run(V.summaries, y, p, s)["eod"], want["eod"],
                 "the FPR gap is max - min over the groups that have actual negatives (group 1 has none); "
                 "counting its FPR as 0 would report a gap of 1 instead of the TPR gap 1/4",
                 "equalized_odds_difference")


@check("with no positives anywhere the TPR gap is undefined and equalized odds is the FPR gap alone")
def no_positives_at_all(run):
    s = torch.tensor([4, 4, 4, 4, 7, 7, 7])
    y = torch.zeros(7, dtype=torch.long)
    p = torch.tensor([1, 0, 0, 0, 1, 1, 0])              # FPR 1/4 and 2/3
    got = run(V.summaries, y, p, s)["eod"]
    expect_float(got, 2 / 3 - 1 / 4, "when no group has a defined TPR, equalized odds difference is the FPR gap "
                 "(a NaN must not leak into the result, and max(nan, x) in Python depends on the order)",
                 "equalized_odds_difference (all labels 0)")


# --------------------------------------------------------------------------------------------
# Other edge cases
# --------------------------------------------------------------------------------------------

@check("nobody selected: demographic parity difference 0, disparate impact ratio 1.0 and it passes")
def nobody_selected(run):
    s = torch.tensor([1, 1, 2, 2, 3])
    y = torch.tensor([1, 0, 1, 0, 1])
    p = torch.zeros(5, dtype=torch.long)
    got = run(V.summaries, y, p, s)
    expect_float(got["dpd"], 0.0, "every selection rate is 0, so their spread is 0", "demographic_parity_difference")
    ratio, passes = V.ratio_and_flag(got["di"], "nobody selected")
    expect_float(ratio, 1.0, "when no one is selected the ratio is defined as 1.0 (every group is treated the "
                 "same), not 0 / 0", "disparate impact ratio")
    expect_equal(passes, True, "a ratio of 1.0 passes the four-fifths rule", what="passes")


@check("the four-fifths rule: a ratio exactly 0.8 passes, 0.75 fails; the threshold argument is used")
def four_fifths_boundary(run):
    s = torch.tensor([0] * 5 + [1] * 5)
    y = torch.zeros(10, dtype=torch.long)
    p = torch.tensor([1, 1, 1, 1, 1, 1, 1, 1, 1, 0])     # rates 1 and 4/5 -> ratio exactly 0.8
    ratio, passes = V.ratio_and_flag(run(V.summaries, y, p, s)["di"], "selection rates 1 and 4/5")
    expect_float(ratio, 0.8, "disparate impact ratio = min / max of the groups' selection rates", "ratio")
    expect_equal(passes, True, "a ratio exactly at the threshold passes (ratio >= 0.8, not > 0.8)",
                 what="passes at ratio 0.8")
    s = torch.tensor([0] * 4 + [1] * 4)
    p = torch.tensor([1, 1, 1, 1, 1, 1, 1, 0])           # rates 1 and 3/4
    ratio, passes = V.ratio_and_flag(run(V.summaries, y[:8], p, s)["di"], "selection rates 1 and 3/4")
    expect_equal(passes, False, "a ratio of 0.75 fails the four-fifths rule", what="passes at ratio 0.75")
    ratio, passes = V.ratio_and_flag(run(V.summaries, y[:8], p, s, 0.7)["di"], "threshold 0.7")
    expect_equal(passes, True, "the test compares with the threshold argument (0.7 here), not a fixed 0.8",
                 what="passes at ratio 0.75 with threshold 0.7")


@check("groups with ids 10, -3, 7 come back ascending as [-3, 7, 10] with their own rates")
def arbitrary_ids(run):
    s = torch.tensor([10, -3, 10, 7, -3, 7, 7, 10])
    y = torch.tensor([1, 1, 0, 1, 0, 0, 1, 1])
    p = torch.tensor([1, 0, 1, 1, 0, 1, 1, 0])
    expect_rates(run(V.rates, y, p, s)["out"], oracle(y, p, s), "ids 10, -3, 7")


@check("a single group: every difference is 0 and the ratio is 1")
def single_group(run):
    s = torch.full((6,), 3)
    y = torch.tensor([1, 1, 0, 0, 1, 0])
    p = torch.tensor([1, 0, 1, 0, 1, 0])
    got = run(V.summaries, y, p, s)
    expect_float(got["dpd"], 0.0, "with one group, max - min of one rate is 0", "demographic_parity_difference")
    expect_float(got["eod"], 0.0, "with one group, both gaps are 0", "equalized_odds_difference")
    ratio, passes = V.ratio_and_flag(got["di"], "one group")
    expect_float(ratio, 1.0, "with one group, min / max of one rate is 1", "disparate impact ratio")


@check("groups of a single person, and a group whose every member is selected, are counted exactly")
def tiny_groups(run):
    s = torch.tensor([0, 1, 2, 2, 2, 3])
    y = torch.tensor([1, 0, 1, 0, 1, 1])
    p = torch.tensor([1, 0, 1, 1, 1, 0])
    want = oracle(y, p, s)
    expect_rates(run(V.rates, y, p, s)["out"], want, "groups of sizes 1, 1, 3, 1")
    got = run(V.summaries, y, p, s)
    expect_float(got["dpd"], want["dpd"], "demographic parity difference = max - min selection rate",
                 "demographic_parity_difference")
    expect_float(got["eod"], want["eod"], "equalized odds difference = max(TPR gap, FPR gap) over defined rates",
                 "equalized_odds_difference")


@check("accepts bool and float labels and any integer dtype of ids, and modifies no input")
def dtypes_and_inputs(run):
    y_true, y_pred, sensitive = dataset(40)
    want = oracle(y_true, y_pred, sensitive)
    for yt, yp, s, name in [(y_true.bool(), y_pred.bool(), sensitive.int(), "bool labels, int32 ids"),
                            (y_true.float(), y_pred.double(), sensitive.short(), "float labels, int16 ids")]:
        copies = [yt.clone(), yp.clone(), s.clone()]
        got = run(V.rates, yt, yp, s)
        want_s = dict(want, groups=want["groups"].to(s.dtype))
        expect_rates(got["out"], want_s, name)
        for before, after, arg in zip(copies, got["inputs_after"], ("y_true", "y_pred", "sensitive")):
            expect(isinstance(after, torch.Tensor) and after.dtype == before.dtype and torch.equal(after, before),
                   "group_rates must not modify its inputs", f"{arg} changed ({name})")
        expect_float(run(V.summaries, yt, yp, s)["eod"], want["eod"],
                     "labels are binary: bool, or 0/1 as int or float", f"equalized_odds_difference ({name})")


@check("rates are float64 tensors and the summaries are Python floats")
def output_types(run):
    y_true, y_pred, sensitive = dataset(41)
    got = run(V.rates, y_true, y_pred, sensitive.int())["out"]
    expect_rates(got, oracle(y_true, y_pred, sensitive.int()), "random dataset, int32 sensitive ids")
    got = V.rate_table(got, "random dataset")
    for k in ("selection_rate", "tpr", "fpr"):
        expect(got[k].dtype == torch.float64, "the rates are float64 tensors",
               f"{k} has dtype {got[k].dtype}")
    expect(got["count"].dtype == torch.int64, "count is an int64 tensor", f"count has dtype {got['count'].dtype}")
    summ = run(V.summaries, y_true, y_pred, sensitive)
    want = oracle(y_true, y_pred, sensitive)
    for k in ("dpd", "eod"):
        expect_float(summ[k], want[k], "the summaries are max - min gaps of the group rates", k)
    for k in ("dpd", "eod"):
        expect(isinstance(summ[k], float), "the summaries are Python floats (use float(...) or .item())",
               f"{k}: your code returned {type(summ[k]).__name__}")
