"""Visible checks: an 8-prediction reliability diagram worked by hand (4 bins, confidences on the
edges 0.25 and 1.0), its ECE and MCE, empty bins with 8 bins, the top-label confidence of a
3-class classifier, and the ECE gap between two groups."""
import torch

from mlkata.checks import Fail, check, describe, expect_close, expect_equal, probe


@probe
def bins(sub, confidences, correct, n_bins):
    """``reliability_bins``, ``expected_calibration_error`` and ``maximum_calibration_error`` on one input."""
    out = {"bins": sub.reliability_bins(confidences, correct, n_bins),
           "ece": sub.expected_calibration_error(confidences, correct, n_bins),
           "mce": sub.maximum_calibration_error(confidences, correct, n_bins)}
    out["inputs_after"] = [confidences, correct]
    return out


@probe
def only(sub, name, *args):
    """One function of the module by name (used where only that one is being judged)."""
    return getattr(sub, name)(*args)


@probe
def top_label(sub, probs, labels):
    return sub.top_label_confidence(probs, labels)


@probe
def groups(sub, confidences, correct, sensitive, n_bins):
    return sub.group_calibration_gap(confidences, correct, sensitive, n_bins)


def bin_table(got, n_bins, what):
    """Judge side: the dict of reliability_bins with three tensors of shape (n_bins,)."""
    rule = "reliability_bins returns a dict of (n_bins,) tensors 'count', 'accuracy', 'confidence'"
    if not isinstance(got, dict):
        raise Fail(rule, f"{what}: expected a dict, your code returned {describe(got)}")
    for k in ("count", "accuracy", "confidence"):
        v = got.get(k)
        if not isinstance(v, torch.Tensor) or tuple(v.shape) != (n_bins,):
            raise Fail(rule, f"{what}: entry {k!r} should be a tensor of shape [{n_bins}], your code returned "
                             f"{describe(v)}")
    return got


def f64(*v):
    return torch.tensor(v, dtype=torch.float64)


NAN = float("nan")
C8 = torch.tensor([0.1, 0.2, 0.25, 0.3, 0.6, 0.7, 0.9, 1.0], dtype=torch.float64)
Y8 = torch.tensor([0, 0, 1, 0, 1, 1, 1, 1])
# 4 bins (0, .25], (.25, .5], (.5, .75], (.75, 1]:  0.1 0.2 0.25 | 0.3 | 0.6 0.7 | 0.9 1.0
#   acc  1/3, 0, 1, 1;  conf 0.55/3, 0.3, 0.65, 0.95;  |gap| 0.15, 0.3, 0.35, 0.05


@check("4 bins by hand: counts [3, 1, 2, 2] (0.25 falls in the first bin: bins are right-closed)")
def hand_bins(run):
    got = bin_table(run(bins, C8, Y8, 4)["bins"], 4, "reliability_bins(8 confidences, n_bins=4)")
    expect_equal(got["count"], torch.tensor([3, 1, 2, 2]), "bin b holds b/n_bins < p <= (b+1)/n_bins: 0.25 is in "
                 "bin 0 and 1.0 in the last bin", what="count")
    expect_close(got["accuracy"], f64(1 / 3, 0, 1, 1), "accuracy of a bin = fraction of its predictions that are "
                 "correct", rtol=1e-12, atol=1e-12, what="accuracy")
    expect_close(got["confidence"], f64(0.55 / 3, 0.3, 0.65, 0.95), "confidence of a bin = mean confidence of its "
                 "predictions", rtol=1e-12, atol=1e-12, what="confidence")


@check("ECE = sum (n_b / n) |acc_b - conf_b| = 1.55 / 8 and MCE = max |acc_b - conf_b| = 0.35 on the same data")
def hand_ece_mce(run):
    got = run(bins, C8, Y8, 4)
    expect_close(got["ece"], 1.55 / 8, "ECE weights each bin's |accuracy - confidence| by its share of the "
                 "predictions, n_b / n", rtol=1e-12, atol=1e-12, what="expected_calibration_error")
    expect_close(got["mce"], 0.35, "MCE is the largest |accuracy - confidence| of a non-empty bin",
                 rtol=1e-12, atol=1e-12, what="maximum_calibration_error")


@check("with 8 bins, bins 3 and 6 are empty: count 0, accuracy and confidence NaN")
def empty_bins(run):
    got = bin_table(run(bins, C8, Y8, 8)["bins"], 8, "reliability_bins(8 confidences, n_bins=8)")
    expect_equal(got["count"], torch.tensor([1, 2, 1, 0, 1, 1, 0, 2]), "bin b holds b/8 < p <= (b+1)/8",
                 what="count")
    expect_close(got["accuracy"], f64(0, 0.5, 0, NAN, 1, 1, NAN, 1), "an empty bin has no accuracy: NaN",
                 rtol=1e-12, atol=1e-12, what="accuracy")


@check("top_label_confidence: the largest probability, and whether its (first) index is the label")
def hand_top_label(run):
    probs = torch.tensor([[0.2, 0.5, 0.3], [0.6, 0.3, 0.1], [0.4, 0.4, 0.2]])
    got = run(top_label, probs, torch.tensor([1, 2, 1]))
    rule = "top_label_confidence returns (confidences, correct)"
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        raise Fail(rule, f"expected a pair, your code returned {describe(got)}")
    expect_close(got[0], torch.tensor([0.5, 0.6, 0.4]), "the confidence is the row's largest probability",
                 rtol=0, atol=0, what="confidences")
    expect_equal(got[1], torch.tensor([True, False, False]), "correct = (index of the largest probability == "
                 "label); in a tie the first index is the prediction (row 3 predicts class 0)", what="correct")


@check("group_calibration_gap: group 0 calibrated (ECE 0), group 1 says 0.9 but is right 2/5 of the time (ECE 0.5)")
def hand_groups(run):
    c = torch.tensor([0.75, 0.75, 0.75, 0.75, 0.9, 0.9, 0.9, 0.9, 0.9], dtype=torch.float64)
    y = torch.tensor([1, 1, 1, 0, 1, 1, 0, 0, 0])
    s = torch.tensor([0, 0, 0, 0, 1, 1, 1, 1, 1])      # group 1: confidence 0.9, accuracy 0.4
    got = run(groups, c, y, s, 4)
    if not isinstance(got, dict):
        raise Fail("group_calibration_gap returns a dict", f"your code returned {describe(got)}")
    expect_close(got.get("ece"), f64(0.0, 0.5), "each group's ECE is computed on its own predictions",
                 rtol=1e-12, atol=1e-12, what="ece")
    expect_close(got.get("max_gap"), 0.5, "max_gap = max - min of the groups' ECEs", rtol=1e-12, atol=1e-12,
                 what="max_gap")
