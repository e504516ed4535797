"""Group fairness metrics: who gets selected, and who is judged correctly, in each group.

A classifier can be accurate overall and still treat groups very differently.  A group
fairness audit splits the data by a sensitive feature ``A`` (one integer id per person) and
compares three rates of the binary predictions ``y_pred`` across the groups ``a``:

* selection rate       ``P(y_pred = 1 | A = a)``             -- *demographic parity* asks that these be equal;
* true positive rate   ``P(y_pred = 1 | y_true = 1, A = a)``  \\  *equalized odds* (Hardt, Price & Srebro,
* false positive rate  ``P(y_pred = 1 | y_true = 0, A = a)``  /  2016) asks that both of these be equal.

Three one-number summaries are standard:

* demographic parity difference = max - min of the groups' selection rates (0 is parity);
* equalized odds difference = the larger of the TPR gap (max - min TPR) and the FPR gap;
* disparate impact ratio = min / max of the selection rates, with the US "four-fifths rule"
  (EEOC, 1978): a ratio below 0.8 is evidence of adverse impact.

These mirror ``fairlearn.metrics`` (``selection_rate``, ``true_positive_rate``,
``false_positive_rate``, ``demographic_parity_difference``, ``equalized_odds_difference``,
``demographic_parity_ratio``) with one deliberate difference.  A rate whose denominator is
empty is *undefined*: a group with no actual positives has no TPR.  Here it is NaN and is left
out of the gaps.  fairlearn reports it as 0 instead (it divides through scikit-learn's
``confusion_matrix(normalize="true")``, which replaces 0/0 by 0) -- and then a group that merely
has no positives looks like a group the model never recognises, inflating the TPR gap.

Write it with torch (or plain Python) -- not with fairlearn or ``sklearn.metrics``.
"""
import math
from typing import Dict, Tuple

import torch


def group_rates(y_true: torch.Tensor, y_pred: torch.Tensor, sensitive: torch.Tensor) -> Dict[str, torch.Tensor]:
    """Per-group count, selection rate, true positive rate and false positive rate.

    Args:
        y_true: (n,) actual labels, binary: int or float 0/1 values, or bool.  Nonzero = positive.
        y_pred: (n,) predicted labels, binary in the same way.
        sensitive: (n,) integer group id of each sample.  The ids can be any integers (negative,
            not contiguous, e.g. ``[10, -3, 10, 7]``); the groups are the distinct ids.
        n >= 1.  None of the inputs is modified.

    Returns:
        a dict of tensors, one entry per group, groups in ascending order of id:

        * ``"groups"``: (G,) the distinct ids of ``sensitive``, ascending (its dtype);
        * ``"count"``: (G,) int64, the number of samples in each group;
        * ``"selection_rate"``: (G,) float64, the fraction of the group predicted positive;
        * ``"tpr"``: (G,) float64, true positives / actual positives of the group --
          NaN for a group with no actual positives;
        * ``"fpr"``: (G,) float64, false positives / actual negatives of the group --
          NaN for a group with no actual negatives.
    """
    ### BEGIN SOLUTION
    t, p = y_true != 0, y_pred != 0                                      # (n,) bool
    groups, idx = torch.unique(sensitive, sorted=True, return_inverse=True)   # (G,), (n,) in [0, G)
    G = groups.numel()

    def per_group(mask):                                                  # (n,) bool -> (G,) float64 sums
        return torch.bincount(idx, weights=mask.double(), minlength=G)

    count = torch.bincount(idx, minlength=G)                             # (G,) int64
    positives, negatives = per_group(t), per_group(~t)
    return {
        "groups": groups,
        "count": count,
        "selection_rate": per_group(p) / count,
        "tpr": per_group(t & p) / positives,       # 0 / 0 = nan: no positives, no TPR
        "fpr": per_group(~t & p) / negatives,      # 0 / 0 = nan: no negatives, no FPR
    }
    ### END SOLUTION


def demographic_parity_difference(y_pred: torch.Tensor, sensitive: torch.Tensor) -> float:
    """max - min of the groups' selection rates (0 when every group is selected equally often).

    Args: ``y_pred`` and ``sensitive`` as in :func:`group_rates` (no labels are needed).

    Returns:
        a Python float in [0, 1].  A single group gives 0.
    """
    ### BEGIN SOLUTION
    rates = group_rates(y_pred, y_pred, sensitive)["selection_rate"]     # y_true is not used
    return _spread(rates)
    ### END SOLUTION


def equalized_odds_difference(y_true: torch.Tensor, y_pred: torch.Tensor, sensitive: torch.Tensor) -> float:
    """The larger of the TPR gap and the FPR gap across groups.

    The TPR gap is max - min of the groups' TPRs, taken over the groups whose TPR is defined
    (groups with no actual positives are left out); the FPR gap likewise over the groups with at
    least one actual negative.  A gap over a single defined group is 0.  When no group at all has
    a defined TPR (no positives anywhere), the result is the FPR gap alone, and vice versa.

    Args: as in :func:`group_rates`.

    Returns:
        a Python float in [0, 1].
    """
    ### BEGIN SOLUTION
    rates = group_rates(y_true, y_pred, sensitive)
    gaps = [g for g in (_spread(rates["tpr"]), _spread(rates["fpr"])) if not math.isnan(g)]
    return max(gaps)
    ### END SOLUTION


def disparate_impact(y_pred: torch.Tensor, sensitive: torch.Tensor, threshold: float = 0.8) -> Tuple[float, bool]:
    """The disparate impact ratio min / max of the groups' selection rates, and the four-fifths test.

    Args:
        y_pred, sensitive: as in :func:`group_rates`.
        threshold: the smallest acceptable ratio (0.8 for the four-fifths rule).

    Returns:
        ``(ratio, passes)``: ``ratio`` a Python float in [0, 1] (computed in float64), and
        ``passes`` a Python bool, True when ``ratio >= threshold`` (a ratio exactly at the
        threshold passes).  When no one at all is selected, every group is treated the same:
        the ratio is 1.0 (not 0 / 0) and it passes.
    """
    ### BEGIN SOLUTION
    rates = group_rates(y_pred, y_pred, sensitive)["selection_rate"]
    lo, hi = float(rates.min()), float(rates.max())
    ratio = 1.0 if hi == 0 else lo / hi
    return ratio, ratio >= threshold
    ### END SOLUTION


def _spread(values: torch.Tensor) -> float:
    """max - min of the non-NaN entries of ``values`` (NaN when there are none)."""
    ### BEGIN SOLUTION
    defined = values[~values.isnan()]
    return float(defined.max() - defined.min()) if defined.numel() else math.nan
    ### END SOLUTION
