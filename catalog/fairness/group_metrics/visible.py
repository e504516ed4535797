"""Visible checks: the per-group rates of a 10-person table worked by hand, and the three
summaries (demographic parity difference, equalized odds difference, disparate impact) on it."""
import torch

from mlkata.checks import Fail, check, describe, expect_close, expect_equal, probe


@probe
def rates(sub, y_true, y_pred, sensitive):
    """``group_rates`` and the inputs afterwards (they must be unchanged)."""
    out = sub.group_rates(y_true, y_pred, sensitive)
    return {"out": out, "inputs_after": [y_true, y_pred, sensitive]}


@probe
def summaries(sub, y_true, y_pred, sensitive, threshold=None):
    """The three summaries on one dataset; ``threshold=None`` leaves disparate_impact's at its default (0.8)."""
    di = (sub.disparate_impact(y_pred, sensitive) if threshold is None
          else sub.disparate_impact(y_pred, sensitive, threshold))
    return {"dpd": sub.demographic_parity_difference(y_pred, sensitive),
            "eod": sub.equalized_odds_difference(y_true, y_pred, sensitive), "di": di}


KEYS = ("groups", "count", "selection_rate", "tpr", "fpr")


def rate_table(got, what):
    """Judge side: the dict of group_rates, with every key present and a tensor."""
    rule = "group_rates returns a dict with the tensors 'groups', 'count', 'selection_rate', 'tpr', 'fpr'"
    if not isinstance(got, dict):
        raise Fail(rule, f"{what}: expected a dict, your code returned {describe(got)}")
    for k in KEYS:
        if not isinstance(got.get(k), torch.Tensor):
            raise Fail(rule, f"{what}: entry {k!r} should be a tensor, your code returned {describe(got.get(k))}")
    return got


def ratio_and_flag(got, what):
    """Judge side: ``(ratio, passes)`` with ``passes`` a bool (a 0-dim bool tensor is accepted)."""
    rule = "disparate_impact returns (ratio, passes): a float and a bool"
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        raise Fail(rule, f"{what}: expected a pair, your code returned {describe(got)}")
    ratio, passes = got
    if isinstance(passes, torch.Tensor) and passes.numel() == 1 and passes.dtype == torch.bool:
        passes = bool(passes)
    if not isinstance(passes, bool):
        raise Fail(rule, f"{what}: expected passes to be a bool, your code returned {describe(passes)}")
    return ratio, passes


# Ten people in two groups, worked by hand:
#   group 0: labels 1 1 1 0 0, predictions 1 1 0 1 0 -> selected 3/5, TPR 2/3, FPR 1/2
#   group 1: labels 1 1 0 0 0, predictions 1 0 0 0 0 -> selected 1/5, TPR 1/2, FPR 0/3
S = torch.tensor([0, 0, 0, 0, 0, 1, 1, 1, 1, 1])
Y = torch.tensor([1, 1, 1, 0, 0, 1, 1, 0, 0, 0])
P = torch.tensor([1, 1, 0, 1, 0, 1, 0, 0, 0, 0])


@check("group_rates of a 10-person table: selection 3/5 and 1/5, TPR 2/3 and 1/2, FPR 1/2 and 0")
def hand_table(run):
    got = rate_table(run(rates, Y, P, S)["out"], "group_rates on the 10-person table")
    expect_equal(got["groups"], torch.tensor([0, 1]), "groups are the distinct ids of sensitive, ascending",
                 what="groups")
    expect_equal(got["count"], torch.tensor([5, 5]), "count is the number of samples in each group", what="count")
    f64 = lambda *v: torch.tensor(v, dtype=torch.float64)  # noqa: E731
    expect_close(got["selection_rate"], f64(3 / 5, 1 / 5), "selection rate = predicted positives / group size",
                 rtol=1e-12, atol=1e-12, what="selection_rate")
    expect_close(got["tpr"], f64(2 / 3, 1 / 2), "TPR = true positives / actual positives of the group "
                 "(not / predicted positives, which is precision)", rtol=1e-12, atol=1e-12, what="tpr")
    expect_close(got["fpr"], f64(1 / 2, 0.0), "FPR = false positives / actual negatives of the group "
                 "(not / group size)", rtol=1e-12, atol=1e-12, what="fpr")


@check("demographic parity difference = max - min selection rate: 3/5 - 1/5 = 0.4")
def hand_dpd(run):
    got = run(summaries, Y, P, S)["dpd"]
    expect_close(got, 0.4, "demographic parity difference = max - min of the groups' selection rates",
                 rtol=1e-12, atol=1e-12, what="demographic_parity_difference")


@check("equalized odds difference is the larger gap: TPR gap 1/6, FPR gap 1/2 -> 0.5 (and 2/3 once group 1's "
       "true positive is missed)")
def hand_eod(run):
    got = run(summaries, Y, P, S)["eod"]
    expect_close(got, 0.5, "equalized odds difference = max(TPR gap, FPR gap), each gap max - min across groups "
                 "(here the FPR gap, 1/2 - 0, is the larger)", rtol=1e-12, atol=1e-12,
                 what="equalized_odds_difference")
    missed = P.clone()
    missed[5] = 0                                   # group 1's TPR drops to 0: TPR gap 2/3 - 0
    got = run(summaries, Y, missed, S)["eod"]
    expect_close(got, 2 / 3, "equalized odds difference = max(TPR gap, FPR gap) (here the TPR gap, 2/3 - 0)",
                 rtol=1e-12, atol=1e-12, what="equalized_odds_difference with y_pred[5] = 0")


@check("disparate impact ratio = min / max selection rate: (1/5) / (3/5) = 1/3 fails the four-fifths rule "
       "(the default threshold), and so does 2/3")
def hand_di(run):
    ratio, passes = ratio_and_flag(run(summaries, Y, P, S)["di"], "disparate_impact on the 10-person table")
    expect_close(ratio, 1 / 3, "disparate impact ratio = min / max of the groups' selection rates",
                 rtol=1e-12, atol=1e-12, what="ratio")
    expect_equal(passes, False, "the four-fifths rule passes only when ratio >= 0.8", what="passes")
    two = P.clone()
    two[6] = 1                                      # group 1 now selects 2 of 5: ratio 2/3, still below 0.8
    ratio, passes = ratio_and_flag(run(summaries, Y, two, S)["di"], "disparate_impact with y_pred[6] = 1")
    expect_close(ratio, 2 / 3, "disparate impact ratio = min / max of the groups' selection rates",
                 rtol=1e-12, atol=1e-12, what="ratio with y_pred[6] = 1")
    expect_equal(passes, False, "the default threshold is 0.8 (the four-fifths rule): 2/3 fails it", what="passes")

