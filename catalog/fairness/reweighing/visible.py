"""Visible checks: the four reweighing weights of a 10-sample table worked by hand, each sample's
weight, the plain base rates per group, and the equal weighted base rates after reweighing."""
import torch

from mlkata.checks import Fail, check, describe, expect_close, expect_equal, probe


@probe
def weights(sub, sensitive, labels):
    """``reweighing_weights`` and the inputs afterwards (they must be unchanged)."""
    return {"out": sub.reweighing_weights(sensitive, labels), "inputs_after": [sensitive, labels]}


@probe
def rates(sub, sensitive, labels, w):
    return sub.weighted_label_rates(sensitive, labels, w)


@probe
def reweighed_rates(sub, sensitive, labels):
    """The weighted label rates under the learner's own reweighing weights."""
    w = sub.reweighing_weights(sensitive, labels)["weights"]
    return {"weights": w, "rates": sub.weighted_label_rates(sensitive, labels, w)}


def entries(got, keys, what, fn):
    """Judge side: a dict with a tensor under every key."""
    rule = f"{fn} returns a dict with the tensors {', '.join(repr(k) for k in keys)}"
    if not isinstance(got, dict):
        raise Fail(rule, f"{what}: expected a dict, your code returned {describe(got)}")
    for k in keys:
        if not isinstance(got.get(k), torch.Tensor):
            raise Fail(rule, f"{what}: entry {k!r} should be a tensor, your code returned {describe(got.get(k))}")
    return got


def weight_table(got, what):
    return entries(got, ("groups", "classes", "table", "weights"), what, "reweighing_weights")


def rate_table(got, what):
    return entries(got, ("groups", "classes", "rates"), what, "weighted_label_rates")


# group 0: six samples, labels 1 1 1 1 0 0;  group 1: four samples, labels 1 0 0 0.   n = 10, n_y = 5, 5
S = torch.tensor([0, 0, 0, 0, 0, 0, 1, 1, 1, 1])
Y = torch.tensor([1, 1, 1, 1, 0, 0, 1, 0, 0, 0])
# W(g, y) = n_g n_y / (n n_gy): W(0,0) = 6*5/(10*2) = 1.5, W(0,1) = 6*5/(10*4) = 0.75,
#                                W(1,0) = 4*5/(10*3) = 2/3, W(1,1) = 4*5/(10*1) = 2
TABLE = torch.tensor([[1.5, 0.75], [2 / 3, 2.0]], dtype=torch.float64)


@check("W(g, y) = n_g n_y / (n n_gy) on a 10-sample table: [[1.5, 0.75], [2/3, 2]]")
def hand_table(run):
    got = weight_table(run(weights, S, Y)["out"], "reweighing_weights on the 10-sample table")
    expect_equal(got["groups"], torch.tensor([0, 1]), "groups are the distinct ids, ascending", what="groups")
    expect_equal(got["classes"], torch.tensor([0, 1]), "classes are the distinct labels, ascending", what="classes")
    expect_close(got["table"], TABLE, "W(g, y) = P(g) P(y) / P(g, y) = n_g n_y / (n n_gy); rows are groups, "
                 "columns are classes", rtol=1e-12, atol=1e-12, what="table")


@check("every sample gets the weight of its (group, label) cell")
def hand_weights(run):
    got = weight_table(run(weights, S, Y)["out"], "reweighing_weights on the 10-sample table")
    want = torch.tensor([0.75] * 4 + [1.5] * 2 + [2.0] + [2 / 3] * 3, dtype=torch.float64)
    expect_close(got["weights"], want, "weights[i] = W(sensitive[i], labels[i])", rtol=1e-12, atol=1e-12,
                 what="weights")


@check("with all weights 1, weighted_label_rates are the base rates: group 0 [1/3, 2/3], group 1 [3/4, 1/4]")
def hand_base_rates(run):
    got = rate_table(run(rates, S, Y, torch.ones(10)), "weighted_label_rates with unit weights")
    expect_close(got["rates"], torch.tensor([[1 / 3, 2 / 3], [3 / 4, 1 / 4]], dtype=torch.float64),
                 "rates[g, y] = (weight of group g with label y) / (weight of group g)", rtol=1e-12, atol=1e-12,
                 what="rates")


@check("after reweighing both groups have the overall base rate: P(y = 1) = 2/5 in both")
def hand_independence(run):
    labels = torch.tensor([1, 1, 1, 0, 0, 0, 1, 0, 0, 0])       # group 0: 3 of 6 positive, group 1: 1 of 4
    got = run(reweighed_rates, S, labels)
    expect_close(rate_table(got["rates"], "rates under your weights")["rates"],
                 torch.tensor([[0.6, 0.4], [0.6, 0.4]], dtype=torch.float64),
                 "under the reweighing weights every group's label distribution is the overall one, P(y)",
                 rtol=1e-12, atol=1e-12, what="weighted rates (overall: 6 negatives, 4 positives)")
