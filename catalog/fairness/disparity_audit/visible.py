"""Visible checks: an 11-person audit worked by hand (two groups of different sizes), its
differences, ratios and flags, and the intersectional groups of two sensitive features."""
import torch

from mlkata.checks import Fail, check, describe, expect_close, expect_equal, probe

METRICS = ("accuracy", "precision", "recall", "fpr", "selection_rate")


@probe
def audit(sub, y_true, y_pred, sensitive, tolerance=None):
    """``disparity_audit`` and the inputs afterwards (they must be unchanged); ``tolerance=None``
    leaves it at its default (0.1)."""
    out = (sub.disparity_audit(y_true, y_pred, sensitive) if tolerance is None
           else sub.disparity_audit(y_true, y_pred, sensitive, tolerance))
    return {"out": out, "inputs_after": [y_true, y_pred, sensitive]}


@probe
def groups_of(sub, sensitive):
    return sub.intersectional_groups(sensitive)


def report(got, what):
    """Judge side: the audit dict, with every section present and every metric key in each."""
    rule = ("disparity_audit returns a dict with 'groups', 'count', 'overall', 'by_group', 'difference', 'ratio', "
            "'flagged'; each metric section has the keys " + ", ".join(METRICS))
    if not isinstance(got, dict):
        raise Fail(rule, f"{what}: expected a dict, your code returned {describe(got)}")
    for k in ("groups", "count", "overall", "by_group", "difference", "ratio", "flagged"):
        if k not in got:
            raise Fail(rule, f"{what}: the key {k!r} is missing")
    for section in ("overall", "by_group", "difference", "ratio"):
        sec = got[section]
        if not isinstance(sec, dict) or set(sec) != set(METRICS):
            shown = sorted(sec) if isinstance(sec, dict) else describe(sec)
            raise Fail(rule, f"{what}: {section!r} should have exactly the keys {list(METRICS)}, got {shown}")
    return got


def f64(*v):
    return torch.tensor(v, dtype=torch.float64)


# group 0 (5 people): labels 1 1 1 0 0, predictions 1 1 0 1 0 -> TP 2, FP 1, FN 1, TN 1
# group 1 (6 people): labels 1 1 0 0 0 0, predictions 1 0 0 0 0 0 -> TP 1, FP 0, FN 1, TN 4
S = torch.tensor([0] * 5 + [1] * 6)
Y = torch.tensor([1, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0])
P = torch.tensor([1, 1, 0, 1, 0, 1, 0, 0, 0, 0, 0])
BY_GROUP = {"accuracy": f64(3 / 5, 5 / 6), "precision": f64(2 / 3, 1.0), "recall": f64(2 / 3, 1 / 2),
            "fpr": f64(1 / 2, 0.0), "selection_rate": f64(3 / 5, 1 / 6)}
RULES = {"accuracy": "accuracy = (TP + TN) / n", "precision": "precision = TP / (TP + FP)",
         "recall": "recall = TP / (TP + FN)", "fpr": "fpr = FP / (FP + TN)",
         "selection_rate": "selection_rate = (TP + FP) / n"}


@check("by_group: each metric on each group's own samples (accuracy 3/5 and 5/6, precision 2/3 and 1, ...)")
def hand_by_group(run):
    got = report(run(audit, Y, P, S)["out"], "the 11-person audit")
    expect_equal(got["groups"], torch.tensor([0, 1]), "groups are the distinct ids, ascending", what="groups")
    expect_equal(got["count"], torch.tensor([5, 6]), "count is the number of samples in each group", what="count")
    for k, want in BY_GROUP.items():
        expect_close(got["by_group"][k], want, RULES[k] + ", within each group", rtol=1e-12, atol=1e-12,
                     what=f"by_group[{k!r}]")


@check("overall is computed on all 11 samples (accuracy 8/11), not as the mean of the group values")
def hand_overall(run):
    got = report(run(audit, Y, P, S)["out"], "the 11-person audit")
    want = {"accuracy": 8 / 11, "precision": 3 / 4, "recall": 3 / 5, "fpr": 1 / 6, "selection_rate": 4 / 11}
    for k, w in want.items():
        expect_close(got["overall"][k], w, RULES[k] + " over everyone (TP 3, FP 1, FN 2, TN 5); the mean of the "
                     "group values weights a small group too much", rtol=1e-12, atol=1e-12, what=f"overall[{k!r}]")


@check("difference = max - min, ratio = min / max across groups; tolerance 0.25 flags precision, fpr, "
       "selection_rate")
def hand_gaps(run):
    got = report(run(audit, Y, P, S, 0.25)["out"], "the 11-person audit, tolerance 0.25")
    for k, v in BY_GROUP.items():
        lo, hi = float(v.min()), float(v.max())
        expect_close(got["difference"][k], hi - lo, "difference = max - min of the group values", rtol=1e-12,
                     atol=1e-12, what=f"difference[{k!r}]")
        expect_close(got["ratio"][k], lo / hi, "ratio = min / max of the group values", rtol=1e-12, atol=1e-12,
                     what=f"ratio[{k!r}]")
    expect_equal(got["flagged"], ["precision", "fpr", "selection_rate"], "flag the metrics whose difference is "
                 "greater than the tolerance, in the order accuracy, precision, recall, fpr, selection_rate",
                 what="flagged")


@check("two sensitive features: the groups are the combinations that occur, in lexicographic order")
def hand_intersection(run):
    sens = torch.tensor([[1, 0], [0, 2], [0, 0], [1, 0], [0, 2], [1, 0]])   # (1, 2) never occurs
    got = run(groups_of, sens)
    rule = "intersectional_groups returns (groups, index)"
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        raise Fail(rule, f"expected a pair, your code returned {describe(got)}")
    expect_equal(got[0], torch.tensor([[0, 0], [0, 2], [1, 0]]), "the groups are the distinct rows that occur "
                 "(the combination (1, 2) has no sample, so it is not a group), sorted lexicographically",
                 what="groups")
    expect_equal(got[1], torch.tensor([2, 1, 0, 2, 1, 2]), "index[i] is the position of sample i's row in groups",
                 what="index")
