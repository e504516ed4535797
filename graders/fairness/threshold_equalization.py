"""Hidden graders of fairness/threshold_equalization: per-group thresholds against a brute force
over EVERY score of the group (positives and negatives) plus +inf, on random data with
continuous and with heavily tied scores and targets kept away from near-ties; the tie rule
(equally close -> larger threshold), targets 0 and 1, a group without positives (+inf, NaN),
applying the thresholds (score == threshold accepted) and the TPRs the predictions reach,
dtypes, extreme score magnitudes and untouched inputs.  fairlearn is not a grading-time
dependency; tests/test_twins_fairness_threshold_equalization.py checks this brute force and the
reference against scikit-learn's roc_curve on each group's data."""
import math

import torch

from mlkata.checks import Fail, check, expect, expect_close, expect_equal, visible_module

V = visible_module("fairness/threshold_equalization")
INF, NAN = math.inf, math.nan
CLOSEST = ("each group's threshold is the candidate (a distinct positive score of the group, or +inf) whose TPR "
           "= #{positives with score >= t} / P is closest to the target; equally close -> the larger threshold")


# --------------------------------------------------------------------------------------------
# Oracle: brute force over every score of the group
# --------------------------------------------------------------------------------------------

def brute_force(scores, y_true, sensitive, target):
    sc, t, s = scores.double().tolist(), [v != 0 for v in y_true.tolist()], sensitive.tolist()
    groups = sorted(set(s))
    th, tprs, margins = [], [], []
    for g in groups:
        idx = [i for i in range(len(s)) if s[i] == g]
        pos = [sc[i] for i in idx if t[i]]
        if not pos:
            th.append(INF)
            tprs.append(NAN)
            margins.append(INF)
            continue
        best = None                                           # (gap, -threshold, tpr)
        gaps = []
        for cand in sorted(set(sc[i] for i in idx)) + [INF]:
            tpr = sum(1 for p in pos if p >= cand) / len(pos)
            key = (abs(tpr - target), -cand, tpr)
            gaps.append(abs(tpr - target))
            best = key if best is None or key < best else best
        th.append(-best[1])
        tprs.append(best[2])
        distinct = sorted(set(gaps))                          # how far the runner-up TPR is from a tie
        margins.append(distinct[1] - distinct[0] if len(distinct) > 1 else INF)
    f64 = lambda v: torch.tensor(v, dtype=torch.float64)  # noqa: E731
    return {"groups": torch.tensor(groups, dtype=sensitive.dtype), "thresholds": f64(th), "tpr": f64(tprs),
            "margin": min(margins)}


def dataset(seed, tied=False):
    """Random scores whose distribution is shifted and scaled per group, and a target TPR chosen so
    that no group has two candidates within 1e-9 of equally close (an exact-tie rule is checked
    separately, on exactly representable numbers)."""
    g = torch.Generator().manual_seed(seed)
    G = int(torch.randint(2, 6, (), generator=g))
    ids = torch.randperm(60, generator=g)[:G] - 30
    n = int(torch.randint(30, 200, (), generator=g))
    gi = torch.randint(0, G, (n,), generator=g)
    y = (torch.rand(n, generator=g) < 0.2 + 0.6 * torch.rand(G, generator=g)[gi]).long()
    y[:G], gi[:G] = 1, torch.arange(G)                                         # a positive in every group
    shift, scale = torch.randn(G, generator=g, dtype=torch.float64), torch.rand(G, generator=g, dtype=torch.float64)
    scores = shift[gi] + (0.3 + scale[gi]) * (torch.randn(n, generator=g, dtype=torch.float64) + 1.2 * y)
    if tied:
        scores = (scores * 2).round() / 2                                      # many exactly equal scores
    s = ids[gi]
    while True:
        target = float(torch.rand((), generator=g, dtype=torch.float64))
        want = brute_force(scores, y, s, target)
        if want["margin"] > 1e-9:
            return scores, y, s, target, want


def expect_table(got, want, what):
    got = V.table(got, what)
    expect_equal(got["groups"], want["groups"], "groups are the distinct ids of sensitive, ascending",
                 what=f"groups ({what})")
    expect_close(got["thresholds"], want["thresholds"], CLOSEST, rtol=0, atol=0, what=f"thresholds ({what})")
    expect_close(got["tpr"], want["tpr"], "tpr = the TPR the group reaches with its chosen threshold (NaN without "
                 "positives)", rtol=1e-12, atol=1e-12, what=f"tpr ({what})")


# --------------------------------------------------------------------------------------------
# Agreement with the brute force
# --------------------------------------------------------------------------------------------

@check("thresholds and TPRs agree with a brute force over every score, on random data", points=2)
def agrees_continuous(run):
    for seed in range(8):
        scores, y, s, target, want = dataset(seed)
        expect_table(run(V.thresholds, scores, y, s, target)["out"], want, f"seed {seed}, target {target:.4f}")


@check("agrees with the brute force when many scores are tied (a tie moves the TPR by several steps)",
       points=2)
def agrees_tied(run):
    for seed in range(10, 18):
        scores, y, s, target, want = dataset(seed, tied=True)
        expect_table(run(V.thresholds, scores, y, s, target)["out"], want,
                     f"tied scores, seed {seed}, target {target:.4f}")


@check("applying the thresholds reaches the reported TPRs, and apply_thresholds agrees with a loop", points=2)
def apply_agrees(run):
    for seed in range(20, 26):
        scores, y, s, target, want = dataset(seed, tied=seed % 2 == 0)
        got = run(V.end_to_end, scores, y, s, target)
        expect_table(got["out"], want, f"seed {seed}")
        pos = {g: j for j, g in enumerate(want["groups"].tolist())}
        th = want["thresholds"].tolist()
        pred = torch.tensor([int(sc >= th[pos[g]]) for sc, g in zip(scores.tolist(), s.tolist())])
        expect_equal(got["pred"], pred, "apply_thresholds predicts 1 exactly where score >= the threshold of the "
                     "sample's own group", what=f"predictions (seed {seed})")
        # the TPR each group reaches is the reported one
        for g, j in pos.items():
            m = (s == g) & (y == 1)
            reached = float(got["pred"][m].double().mean())
            expect_close(reached, float(want["tpr"][j]), "the predictions reach the reported TPR in every group",
                         rtol=1e-12, atol=1e-12, what=f"TPR of group {g} from the predictions (seed {seed})")


# --------------------------------------------------------------------------------------------
# Rules and edge cases
# --------------------------------------------------------------------------------------------

@check("exact ties in closeness pick the larger threshold (targets 0.375 with P = 4, 0.25 with P = 2)", points=2)
def tie_rule(run):
    # group 0: positives 0.9 0.8 0.6 0.3 -> TPRs 1/4 and 2/4 are equally close to 0.375
    # group 1: positives 0.7 0.2 (and a negative at 0.5) -> TPRs 0 and 1/2 are equally close to 0.25
    scores = torch.tensor([0.9, 0.8, 0.6, 0.3, 0.7, 0.2, 0.5], dtype=torch.float64)
    y = torch.tensor([1, 1, 1, 1, 1, 1, 0])
    s = torch.tensor([0, 0, 0, 0, 1, 1, 1])
    got = V.table(run(V.thresholds, scores, y, s, 0.375)["out"], "target 0.375")
    expect_close(got["thresholds"][0], 0.9, "equally close TPRs (1/4 and 2/4 for 0.375): take the larger threshold",
                 rtol=0, atol=0, what="threshold of group 0")
    got = V.table(run(V.thresholds, scores, y, s, 0.25)["out"], "target 0.25")
    expect_close(got["thresholds"], torch.tensor([0.9, INF], dtype=torch.float64),
                 "equally close TPRs (0 and 1/2 for 0.25): the larger threshold is +inf (accept no one)",
                 rtol=0, atol=0, what="thresholds (target 0.25)")
    expect_close(got["tpr"], torch.tensor([0.25, 0.0], dtype=torch.float64), "the TPR reached with +inf is 0",
                 rtol=0, atol=1e-15, what="tpr (target 0.25)")


@check("target 0 gives +inf and TPR 0; target 1 gives the lowest positive score and TPR 1")
def extreme_targets(run):
    scores, y, s, _, _ = dataset(30)
    for target in (0.0, 1.0):
        want = brute_force(scores, y, s, target)
        expect_table(run(V.thresholds, scores, y, s, target)["out"], want, f"target {target}")


@check("a group with no actual positives gets threshold +inf and TPR NaN; the others are unaffected", points=2)
def no_positives(run):
    scores = torch.tensor([0.9, 0.4, 0.6, 0.8, 0.1, 0.5, 0.3], dtype=torch.float64)
    y = torch.tensor([1, 1, 0, 0, 0, 1, 1])
    s = torch.tensor([2, 2, 5, 5, 5, 9, 9])                     # group 5 has no positives
    want = brute_force(scores, y, s, 0.5)
    got = V.table(run(V.thresholds, scores, y, s, 0.5)["out"], "group 5 has no positives")
    if got["thresholds"].shape == (3,) and float(got["thresholds"][1]) != INF:
        raise Fail("a group with no actual positives has no TPR to match: its threshold is +inf (accept no one)",
                   f"groups [2, 5, 9]: expected thresholds[1] = inf, your code produced {float(got['thresholds'][1])}")
    expect_table(got, want, "group 5 has no positives")


@check("float32 scores and bool labels: thresholds are the exact score values in float64, inputs unchanged")
def dtypes_and_inputs(run):
    scores, y, s, target, _ = dataset(40)
    scores, y = scores.float(), y.bool()
    want = brute_force(scores, y, s, target)
    before = [scores.clone(), y.clone(), s.clone()]
    got = run(V.thresholds, scores, y, s, target)
    expect_table(got["out"], want, "float32 scores, bool labels")
    for k in ("thresholds", "tpr"):
        expect(got["out"][k].dtype == torch.float64, "thresholds and tpr are float64 tensors",
               f"{k} has dtype {got['out'][k].dtype}")
    for b, a, arg in zip(before, got["inputs_after"], ("scores", "y_true", "sensitive")):
        expect(isinstance(a, torch.Tensor) and a.dtype == b.dtype and torch.equal(a, b),
               "the inputs must not be modified (sort a copy)", f"{arg} changed")
    pred = run(V.apply, scores, s, want["groups"], want["thresholds"])
    expect(isinstance(pred, torch.Tensor) and pred.dtype == torch.int64, "apply_thresholds returns int64",
           f"your code returned {pred.dtype if isinstance(pred, torch.Tensor) else type(pred).__name__}")


@check("scores of magnitude 1e30 and logits around -1e4 are handled exactly")
def extreme_scores(run):
    scores, y, s, target, _ = dataset(50)
    big = scores * 1e30
    expect_table(run(V.thresholds, big, y, s, target)["out"], brute_force(big, y, s, target), "scores * 1e30")
    low = scores - 1e4
    expect_table(run(V.thresholds, low, y, s, target)["out"], brute_force(low, y, s, target), "scores - 1e4")
