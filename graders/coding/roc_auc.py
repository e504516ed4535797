"""Hidden graders of coding/roc_auc: the curve against a brute-force threshold sweep (one point
per distinct score, ties together), both AUCs against brute-force pair counting
P(s_pos > s_neg) + 0.5 P(tie) with and without ties (tests/test_twins_coding_roc_auc.py shows
both oracles agree with scikit-learn's roc_curve / roc_auc_score and scipy's Mann-Whitney U),
exactness (scores one ulp apart are different thresholds; huge and tiny scores), label dtypes,
float32 scores, perfect / reversed / constant scorers, a large input with heavy ties (exact
rank sums in float64, no n x n comparison), single-class and empty inputs, untouched inputs."""
import numpy as np
import torch

from mlkata.checks import Fail, check, describe, expect, expect_close, probe, visible_module

V = visible_module("coding/roc_auc")

F64 = torch.float64


@probe
def auc_only(sub, fn, y, s):
    """``sub.<fn>(y, s)`` alone (no copies of large inputs sent back)."""
    return {"auc": getattr(sub, fn)(y, s)}


# --------------------------------------------------------------------------------------------
# Oracles
# --------------------------------------------------------------------------------------------

def pairs_auc(y, s):
    """Brute force over all (positive, negative) pairs, exact integer counts."""
    pos = y.reshape(-1) != 0
    sp, sn = s.double()[pos], s.double()[~pos]
    greater = int((sp[:, None] > sn[None, :]).sum())
    ties = int((sp[:, None] == sn[None, :]).sum())
    return (greater + 0.5 * ties) / (sp.numel() * sn.numel())


def curve_oracle(y, s):
    """Sweep every distinct score from the top; the rule at threshold t is score >= t."""
    pos = (y.reshape(-1) != 0).numpy()
    sv = s.double().numpy()
    P, N = int(pos.sum()), int((~pos).sum())
    thresholds = [float("inf")] + sorted(set(sv.tolist()), reverse=True)
    fpr = [float(((sv >= t) & ~pos).sum()) / N for t in thresholds]
    tpr = [float(((sv >= t) & pos).sum()) / P for t in thresholds]
    return (torch.tensor(fpr, dtype=F64), torch.tensor(tpr, dtype=F64), torch.tensor(thresholds, dtype=F64))


def histogram_auc(y, s_int, m):
    """Exact AUC for integer scores in [0, m): per value, positives x (negatives below + half the equal ones)."""
    pos = y != 0
    hp = torch.bincount(s_int[pos], minlength=m).to(torch.int64)
    hn = torch.bincount(s_int[~pos], minlength=m).to(torch.int64)
    below = torch.cumsum(hn, 0) - hn
    twice = int((hp * (2 * below + hn)).sum())            # 2 * (greater + 0.5 ties), an exact integer
    return twice / (2 * int(hp.sum()) * int(hn.sum()))


def data(seed, n=None, ties=None, sep=1.0, dtype=F64):
    """Random (y, s): y ~ Bernoulli(0.4) (both classes present), s = N(0, 1) + sep * y,
    rounded to ``ties`` decimals when given (heavy ties)."""
    g = torch.Generator().manual_seed(seed)
    n = n or int(torch.randint(6, 80, (), generator=g))
    y = (torch.rand(n, generator=g) < 0.4).long()
    y[0], y[1] = 1, 0
    s = torch.randn(n, generator=g, dtype=F64) + sep * y
    if ties is not None:
        s = torch.round(s, decimals=ties)
    return y, s.to(dtype)


TRAP = "roc_auc_score is the trapezoid area under the ROC curve: P(s_pos > s_neg) + 0.5 * P(s_pos == s_neg)"
RANK = ("roc_auc_rank = (R - P (P + 1) / 2) / (P N), R = sum of the positives' ranks (1 = lowest), tied scores "
        "sharing the average of their ranks")
CURVE = "one point per distinct score, in decreasing order, after (0, 0) at +inf; point i uses score >= thresholds[i]"


# --------------------------------------------------------------------------------------------
# roc_curve
# --------------------------------------------------------------------------------------------

@check("roc_curve agrees with a brute-force threshold sweep on random scores without ties", points=2)
def curve_agrees(run):
    for seed in range(6):
        y, s = data(seed)
        V.expect_curve(run(V.curve, y, s), curve_oracle(y, s), CURVE, f"n={len(y)}, seed {seed}")


@check("roc_curve with heavy ties: tied examples cross the threshold together (diagonal segments)", points=2)
def curve_ties(run):
    for seed in range(10, 16):
        y, s = data(seed, n=60, ties=1 if seed % 2 else 0)
        V.expect_curve(run(V.curve, y, s), curve_oracle(y, s), "examples with equal scores cross the threshold "
                       "together: only the LAST index of each run of equal scores gives a point",
                       f"scores rounded to {1 if seed % 2 else 0} decimals, seed {seed}")
    y, s = torch.tensor([0, 1, 1, 0, 1]), torch.full((5,), 0.25, dtype=F64)
    V.expect_curve(run(V.curve, y, s), (torch.tensor([0.0, 1.0], dtype=F64), torch.tensor([0.0, 1.0], dtype=F64),
                   torch.tensor([float("inf"), 0.25], dtype=F64)), "with all scores equal the curve is the "
                   "diagonal from (0, 0) to (1, 1): two points", "five equal scores")


@check("roc_curve returns float64 tensors for float32 scores: thresholds are the exact scores, fpr/tpr run 0 -> 1")
def curve_float32(run):
    y, s = data(20, n=50, ties=2, dtype=torch.float32)
    got = run(V.curve, y, s)
    for key in ("fpr", "tpr", "thresholds"):
        t = got[key]
        expect(isinstance(t, torch.Tensor) and t.dtype == F64, "roc_curve returns three float64 tensors",
               f"{key} is {describe(t)}")
    V.expect_curve(got, curve_oracle(y, s), "thresholds are the distinct scores themselves (float32 values, "
                   "converted exactly to float64), not rounded or shifted", "float32 scores", rtol=0, atol=0)


@check("scores one ulp apart are different thresholds; huge and tiny scores (1e300, 1e-300) stay exact", points=2)
def exact_scores(run):
    a = 0.5
    up = float(np.nextafter(a, 1.0))                                   # the next float64 after 0.5
    y = torch.tensor([1, 0, 1, 0, 0, 1])
    s = torch.tensor([float(np.nextafter(a, 0.0)), a, up, float(np.nextafter(up, 1.0)), 0.0, 1.0], dtype=F64)
    V.expect_curve(run(V.curve, y, s), curve_oracle(y, s), "scores are tied only when EXACTLY equal: 0.5 and the "
                   "floats one ulp around it are four thresholds (no rounding, no isclose)",
                   "scores 0.5 - 1 ulp, 0.5, 0.5 + 1 ulp, 0.5 + 2 ulp, 0, 1", rtol=0, atol=0)
    for fn, rule in (("roc_auc_score", TRAP), ("roc_auc_rank", RANK)):
        V.expect_auc(run(V.auc, fn, y, s), pairs_auc(y, s), rule + " (scores one ulp apart are not tied)",
                     f"{fn}, scores 0.5 +- 1 ulp")
    y = torch.tensor([1, 0, 1, 0, 1, 0, 0, 1])
    s = torch.tensor([1e300, -1e300, 1e-300, 5e-324, -5e-324, 0.0, 1e300, -1e-300], dtype=F64)
    V.expect_curve(run(V.curve, y, s), curve_oracle(y, s), CURVE + "; works for any finite scores",
                   "scores 1e300, 1e-300, 5e-324, ...", rtol=0, atol=0)
    for fn, rule in (("roc_auc_score", TRAP), ("roc_auc_rank", RANK)):
        V.expect_auc(run(V.auc, fn, y, s), pairs_auc(y, s), rule, f"{fn}, scores 1e300, 1e-300, 5e-324, ...")


@check("labels may be int64, int32, float or bool: the same curve and AUCs every time")
def label_dtypes(run):
    y, s = data(30, n=40)
    base = run(V.curve, y, s)
    V.expect_curve(base, curve_oracle(y, s), CURVE, "int64 labels")
    want = tuple(base[k] for k in ("fpr", "tpr", "thresholds"))
    base_auc = {fn: run(V.auc, fn, y, s)["auc"] for fn in ("roc_auc_score", "roc_auc_rank")}
    for label in (y.double(), y.float(), y.bool(), y.to(torch.int32)):
        what = f"labels of dtype {label.dtype} vs the same labels as int64"
        V.expect_curve(run(V.curve, label, s), want, "the same 0/1 labels give the same curve whatever their dtype "
                       "(use a boolean mask such as y_true != 0: indexing with an int tensor gathers instead of "
                       "masking)", what)
        for fn in ("roc_auc_score", "roc_auc_rank"):
            V.expect_auc(run(V.auc, fn, label, s), float(base_auc[fn]), "the same 0/1 labels give the same AUC "
                         "whatever their dtype", f"{fn}, {what}")


# --------------------------------------------------------------------------------------------
# the two AUCs
# --------------------------------------------------------------------------------------------

@check("roc_auc_score agrees with brute-force pair counting, with and without ties", points=2)
def trapezoid_agrees(run):
    for seed in range(40, 50):
        y, s = data(seed, ties=None if seed < 45 else seed % 3)
        V.expect_auc(run(V.auc, "roc_auc_score", y, s), pairs_auc(y, s), TRAP,
                     f"n={len(y)}, {'no ties' if seed < 45 else 'tied scores'}, seed {seed}")


@check("roc_auc_rank agrees with brute-force pair counting on scores without ties", points=2)
def rank_agrees(run):
    for seed in range(50, 56):
        y, s = data(seed, sep=0.5 * (seed - 52))                           # from reversed to well separated
        V.expect_auc(run(V.auc, "roc_auc_rank", y, s), pairs_auc(y, s), RANK, f"n={len(y)}, seed {seed}")


@check("roc_auc_rank with heavy ties: tied scores get the average of the ranks they span", points=2)
def rank_ties(run):
    for seed in range(60, 66):
        y, s = data(seed, n=70, ties=seed % 2)
        V.expect_auc(run(V.auc, "roc_auc_rank", y, s), pairs_auc(y, s), "tied scores all get the AVERAGE of the "
                     "ranks they span (ranks 4, 5, 6 tied -> 5, 5, 5); argsort alone ranks ties arbitrarily",
                     f"scores rounded to {seed % 2} decimals, seed {seed}")


@check("a perfect scorer has AUC 1, a reversed one 0, a constant one 0.5 (both AUCs)")
def perfect_reversed_constant(run):
    y = torch.tensor([0, 0, 1, 0, 1, 1, 1])
    s = torch.tensor([0.1, 0.2, 0.7, 0.3, 0.9, 0.8, 0.75], dtype=F64)
    for fn, rule in (("roc_auc_score", TRAP), ("roc_auc_rank", RANK)):
        V.expect_auc(run(V.auc, fn, y, s), 1.0, rule + ": every positive above every negative gives 1",
                     f"{fn}, perfect scorer")
        V.expect_auc(run(V.auc, fn, y, -s), 0.0, rule + ": every positive below every negative gives 0",
                     f"{fn}, reversed scorer")
        V.expect_auc(run(V.auc, fn, y, torch.full((7,), 3.0, dtype=F64)), 0.5, rule + ": all pairs tied gives 0.5",
                     f"{fn}, constant scorer")


@check("n = 100,000 with scores in 1,000 tied values: both AUCs exact (float64 rank sums, no n x n comparison)",
       points=2)
def large_input(run):
    g = torch.Generator().manual_seed(70)
    n, m = 100_000, 1000
    y = (torch.rand(n, generator=g) < 0.3).long()
    s_int = torch.clamp((torch.randn(n, generator=g) * 150 + 500 + 60 * y).round().long(), 0, m - 1)
    want = histogram_auc(y, s_int, m)
    s = s_int.to(F64) / 7.0
    V.expect_auc(run(auc_only, "roc_auc_rank", y, s), want, RANK + "; sum the ranks in float64 (a float32 sum of "
                 "~4e10 loses the last digits) and sort once instead of comparing all pairs",
                 "roc_auc_rank, n = 100,000", rtol=1e-10, atol=0)
    V.expect_auc(run(auc_only, "roc_auc_score", y, s), want, TRAP, "roc_auc_score, n = 100,000", rtol=1e-10, atol=0)


# --------------------------------------------------------------------------------------------
# errors and inputs
# --------------------------------------------------------------------------------------------

@check("one class (any label dtype) or an empty input raises ValueError in all three functions")
def single_class_any_input(run):
    s3 = torch.tensor([0.3, -1.0, 2.0], dtype=F64)
    cases = [("float labels all 1.0", torch.ones(3, dtype=F64), s3),
             ("bool labels all False", torch.zeros(3, dtype=torch.bool), s3),
             ("one example", torch.tensor([1]), torch.tensor([0.5], dtype=F64)),
             ("empty input", torch.zeros(0, dtype=torch.long), torch.zeros(0, dtype=F64))]
    for fn in V.FUNCTIONS:
        for label, y, s in cases:
            got = run(V.raises, fn, y, s)
            expect(got["value_error"], f"{fn} raises ValueError unless y_true holds both classes (P = 0 or N = 0 "
                   "makes a rate 0 / 0)", f"{fn} on {label}: " + (f"raised {got['raised']}: {got['message']}"
                                                               if got["raised"] else "returned without raising"))


@check("y_true and y_score are not modified (no sorting in place)")
def inputs_untouched(run):
    y, s = data(80, n=30, ties=1)
    y = y.double()
    results = [("roc_curve", run(V.curve, y, s))] + [(fn, run(V.auc, fn, y, s))
                                                     for fn in ("roc_auc_score", "roc_auc_rank")]
    V.expect_curve(results[0][1], curve_oracle(y, s), CURVE, "n=30, ties")
    for fn, got in results[1:]:
        expect_close(got["auc"], pairs_auc(y, s), TRAP if fn == "roc_auc_score" else RANK, rtol=1e-12, atol=1e-12,
                     what=f"{fn} (n=30, ties)")
    for fn, got in results:
        if not torch.equal(got["s_after"], s) or not torch.equal(got["y_after"], y):
            raise Fail(f"{fn} must not modify its inputs (y_score.sort_() or writing ranks into y_score changes "
                       "the caller's data)", f"after {fn}: y_score {'changed' if not torch.equal(got['s_after'], s) else 'unchanged'}, "
                       f"y_true {'changed' if not torch.equal(got['y_after'], y) else 'unchanged'}")
