"""Calibration: does "80 % confident" mean right 80 % of the time -- in every group?

A classifier is *calibrated* when, among the predictions made with confidence p, a fraction p
is correct.  Modern networks are often over-confident (Guo, Pleiss, Sun & Weinberger, "On
Calibration of Modern Neural Networks", ICML 2017), and calibration can differ between groups
of people: a score that means 70 % for one group and 50 % for another is unfair even when
accuracy is equal (Pleiss et al., "On Fairness and Calibration", NeurIPS 2017).

The *reliability diagram* splits [0, 1] into ``n_bins`` equal-width bins, puts every
prediction in the bin of its confidence, and compares, per bin b,

    acc_b  = the fraction of the bin's predictions that are correct,
    conf_b = the mean confidence of the bin's predictions.

Expected Calibration Error weights the gaps by bin size, Maximum Calibration Error takes the
worst bin (empty bins take no part in either):

    ECE = sum_b (n_b / n) |acc_b - conf_b|,        MCE = max_b |acc_b - conf_b|.

Bins are right-closed, as in ``sklearn.calibration.calibration_curve(strategy="uniform")``:
bin b holds the confidences p with b / n_bins < p <= (b + 1) / n_bins, and p = 0 goes to
bin 0.  (scikit-learn returns only the non-empty bins; here every bin is returned, empty ones
as NaN.)  For a binary classifier, ``confidences`` is the predicted probability of class 1 and
``correct`` is the true label -- exactly calibration_curve's ``(y_prob, y_true)``; for a
multi-class one, the confidence is the top probability and ``correct`` says whether the top
class is the true one (:func:`top_label_confidence`).

Write it with torch -- not with ``sklearn.calibration`` or ``torchmetrics``.
"""
from typing import Dict, Tuple

import torch


def top_label_confidence(probs: torch.Tensor, labels: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """The confidence and correctness of a multi-class classifier's top prediction.

    Args:
        probs: (n, C) float tensor, each row a probability distribution over C classes.
        labels: (n,) int64 true classes in [0, C).

    Returns:
        ``(confidences, correct)``: (n,) the largest probability of each row (dtype of ``probs``),
        and (n,) bool, whether the row's predicted class -- the first index of its largest
        probability when several tie -- equals ``labels``.
    """
    ### BEGIN SOLUTION
    confidences, predicted = probs.max(dim=1)                    # (n,), (n,); max returns the first tie
    return confidences, predicted == labels
    ### END SOLUTION


def reliability_bins(confidences: torch.Tensor, correct: torch.Tensor, n_bins: int = 10) -> Dict[str, torch.Tensor]:
    """The per-bin counts, accuracies and mean confidences of a reliability diagram.

    Args:
        confidences: (n,) float tensor (float32 or float64) with values in [0, 1].
        correct: (n,) binary outcomes: bool, or 0/1 as int or float (nonzero = correct / positive).
        n_bins: number of equal-width bins on [0, 1], n_bins >= 1.
        n >= 1.  The inputs are not modified.

    Bin b (0-based) holds the confidences p with ``b / n_bins < p <= (b + 1) / n_bins``; p = 0 is
    in bin 0 and p = 1 in bin ``n_bins - 1``.  (Any standard way of computing the edges is fine:
    the checks put a confidence exactly on an edge only where the edge is exact in binary.)

    Returns:
        a dict of tensors, the rates computed in float64 whatever the input dtype:

        * ``"count"``: (n_bins,) int64, the number of predictions in each bin;
        * ``"accuracy"``: (n_bins,) float64, acc_b -- NaN for an empty bin;
        * ``"confidence"``: (n_bins,) float64, conf_b -- NaN for an empty bin.
    """
    ### BEGIN SOLUTION
    p = confidences.double()                                               # (n,)
    y = (correct != 0).double()                                            # (n,)
    inner = torch.arange(1, n_bins, dtype=torch.float64) / n_bins          # (n_bins - 1,) inner edges
    b = torch.bucketize(p, inner, right=False)                             # (n,): edges[b] < p <= edges[b+1]
    count = torch.bincount(b, minlength=n_bins)                            # (n_bins,)
    return {
        "count": count,
        "accuracy": torch.bincount(b, weights=y, minlength=n_bins) / count,    # 0 / 0 = nan when empty
        "confidence": torch.bincount(b, weights=p, minlength=n_bins) / count,
    }
    ### END SOLUTION


def expected_calibration_error(confidences: torch.Tensor, correct: torch.Tensor, n_bins: int = 10) -> float:
    """ECE = sum over non-empty bins of (n_b / n) * |acc_b - conf_b|, a Python float in [0, 1].

    Args: as in :func:`reliability_bins`.
    """
    ### BEGIN SOLUTION
    bins = reliability_bins(confidences, correct, n_bins)
    full = bins["count"] > 0
    gap = (bins["accuracy"] - bins["confidence"])[full].abs()               # (non-empty bins,)
    return float((bins["count"][full] * gap).sum() / bins["count"].sum())
    ### END SOLUTION


def maximum_calibration_error(confidences: torch.Tensor, correct: torch.Tensor, n_bins: int = 10) -> float:
    """MCE = max over non-empty bins of |acc_b - conf_b|, a Python float in [0, 1].

    Args: as in :func:`reliability_bins`.
    """
    ### BEGIN SOLUTION
    bins = reliability_bins(confidences, correct, n_bins)
    full = bins["count"] > 0
    return float((bins["accuracy"] - bins["confidence"])[full].abs().max())
    ### END SOLUTION


def group_calibration_gap(confidences: torch.Tensor, correct: torch.Tensor, sensitive: torch.Tensor,
                          n_bins: int = 10) -> Dict[str, object]:
    """ECE of each group, and the largest difference between two groups' ECEs.

    Args:
        confidences, correct, n_bins: as in :func:`reliability_bins`.
        sensitive: (n,) integer group ids (any integers); the groups are the distinct ids.

    Each group's ECE is computed on that group's predictions alone (n = the group's size), with
    the same ``n_bins`` equal-width bins.

    Returns:
        a dict: ``"groups"``, (G,) the distinct ids ascending (dtype of ``sensitive``);
        ``"ece"``, (G,) float64, the ECE of each group; ``"max_gap"``, a Python float,
        max - min of the groups' ECEs (0 for a single group).
    """
    ### BEGIN SOLUTION
    groups = torch.unique(sensitive, sorted=True)                          # (G,)
    ece = torch.tensor([expected_calibration_error(confidences[sensitive == g], correct[sensitive == g], n_bins)
                        for g in groups], dtype=torch.float64)             # (G,)
    return {"groups": groups, "ece": ece, "max_gap": float(ece.max() - ece.min())}
    ### END SOLUTION
