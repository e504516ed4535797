"""Visible checks: thresholds for a 4-positive group worked by hand, two groups whose scores are
shifted, the tie rule (equally close -> the larger threshold), and applying the thresholds."""
import math

import torch

from mlkata.checks import Fail, check, describe, expect_close, expect_equal, probe


@probe
def thresholds(sub, scores, y_true, sensitive, target):
    """``equal_opportunity_thresholds`` and the inputs afterwards (they must be unchanged)."""
    out = sub.equal_opportunity_thresholds(scores, y_true, sensitive, target)
    return {"out": out, "inputs_after": [scores, y_true, sensitive]}


@probe
def apply(sub, scores, sensitive, groups, th):
    return sub.apply_thresholds(scores, sensitive, groups, th)


@probe
def end_to_end(sub, scores, y_true, sensitive, target):
    """Thresholds, then the learner's own predictions with them."""
    out = sub.equal_opportunity_thresholds(scores, y_true, sensitive, target)
    return {"out": out, "pred": sub.apply_thresholds(scores, sensitive, out["groups"], out["thresholds"])}


def table(got, what):
    rule = "equal_opportunity_thresholds returns a dict with the tensors 'groups', 'thresholds', 'tpr'"
    if not isinstance(got, dict):
        raise Fail(rule, f"{what}: expected a dict, your code returned {describe(got)}")
    for k in ("groups", "thresholds", "tpr"):
        if not isinstance(got.get(k), torch.Tensor):
            raise Fail(rule, f"{what}: entry {k!r} should be a tensor, your code returned {describe(got.get(k))}")
    return got


def f64(*v):
    return torch.tensor(v, dtype=torch.float64)


@check("one group, positives scored 0.9 0.8 0.6 0.3, target TPR 0.5: threshold 0.8 (accepts 2 of 4)")
def hand_one_group(run):
    scores = torch.tensor([0.9, 0.8, 0.6, 0.3, 0.85, 0.1], dtype=torch.float64)
    y = torch.tensor([1, 1, 1, 1, 0, 0])
    got = table(run(thresholds, scores, y, torch.zeros(6, dtype=torch.long), 0.5)["out"], "one group")
    expect_close(got["thresholds"], f64(0.8), "the threshold is the positive score that makes TPR(t) = "
                 "#{positives with score >= t} / P closest to the target", rtol=0, atol=0, what="thresholds")
    expect_close(got["tpr"], f64(0.5), "report the TPR reached with the chosen threshold", rtol=0, atol=1e-15,
                 what="tpr")


@check("two groups with shifted scores get different thresholds that both reach TPR 0.75")
def hand_two_groups(run):
    # group 3: positives 0.9 0.7 0.6 0.5 (negatives 0.8 0.2); group 8: positives 0.4 0.3 0.2 0.1
    scores = torch.tensor([0.9, 0.7, 0.6, 0.5, 0.8, 0.2, 0.4, 0.3, 0.2, 0.1, 0.35], dtype=torch.float64)
    y = torch.tensor([1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 0])
    s = torch.tensor([3, 3, 3, 3, 3, 3, 8, 8, 8, 8, 8])
    got = table(run(thresholds, scores, y, s, 0.75)["out"], "two groups")
    expect_equal(got["groups"], torch.tensor([3, 8]), "groups are the distinct ids, ascending", what="groups")
    expect_close(got["thresholds"], f64(0.6, 0.2), "each group gets its own threshold, chosen from its own "
                 "actual positives' scores", rtol=0, atol=0, what="thresholds")
    expect_close(got["tpr"], f64(0.75, 0.75), "TPR of each group with its threshold", rtol=0, atol=1e-15, what="tpr")


@check("equally close TPRs (0.25 and 0.5 for target 0.375): the larger threshold wins")
def hand_tie(run):
    scores = torch.tensor([0.9, 0.8, 0.6, 0.3], dtype=torch.float64)
    got = table(run(thresholds, scores, torch.ones(4), torch.zeros(4, dtype=torch.long), 0.375)["out"], "tie")
    expect_close(got["thresholds"], f64(0.9), "when two candidates are equally close to the target, take the "
                 "larger threshold (lower TPR, fewer false positives)", rtol=0, atol=0, what="thresholds")


@check("apply_thresholds predicts 1 where score >= its group's threshold (equality accepted)")
def hand_apply(run):
    scores = torch.tensor([0.5, 0.4, 0.7, 0.2, 0.3, 0.9])
    s = torch.tensor([1, 1, 1, 4, 4, 4])
    got = run(apply, scores, s, torch.tensor([1, 4]), f64(0.5, math.inf))
    expect_equal(got, torch.tensor([1, 0, 1, 0, 0, 0]), "prediction = 1 where scores[i] >= threshold of its "
                 "group (0.5 >= 0.5 is accepted; nothing reaches inf)", what="predictions")
    if isinstance(got, torch.Tensor) and got.dtype != torch.int64:
        raise Fail("apply_thresholds returns an int64 tensor", f"your code returned dtype {got.dtype}")
