"""A disparity audit: five metrics, overall and per (intersectional) group, with their gaps.

A fairness review of a binary classifier reports each performance metric three ways: on the
whole population, disaggregated by group, and as a between-group disparity -- the difference
(max - min) and the ratio (min / max) of the group values -- and flags the metrics whose
difference exceeds a tolerance.  Harms often concentrate where attributes intersect (Buolamwini
& Gebru, "Gender Shades", 2018: error rates for darker-skinned women far above either
"women" or "darker-skinned" alone), so the groups may be defined by several sensitive features
at once: every combination of values that occurs in the data is a group (the cartesian
product of the features' values, empty combinations dropped).

This is ``fairlearn.metrics.MetricFrame`` (``overall``, ``by_group``, ``difference()``,
``ratio()``) with five built-in metrics, for 0/1 labels and predictions:

* ``accuracy``        = (TP + TN) / n
* ``precision``       = TP / (TP + FP)     -- undefined without predicted positives
* ``recall``          = TP / (TP + FN)     -- the TPR; undefined without actual positives
* ``fpr``             = FP / (FP + TN)     -- undefined without actual negatives
* ``selection_rate``  = (TP + FP) / n

An undefined value is NaN and takes no part in the difference and ratio.  (MetricFrame with
scikit-learn's metrics would report 0 there, with a warning: an empty denominator is not a
group the model fails.)  Write it with torch -- not with fairlearn or ``sklearn.metrics``.
"""
import math
from typing import Dict, List, Tuple

import torch

METRICS = ("accuracy", "precision", "recall", "fpr", "selection_rate")


def intersectional_groups(sensitive: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """The groups defined by one or several sensitive features, and each sample's group.

    Args:
        sensitive: (n,) integer ids of one sensitive feature, or (n, k) integer ids of k features
            (column j = feature j).  Ids can be any integers.

    Returns:
        ``(groups, index)``: ``groups`` holds the distinct values (1-D input, shape (G,)) or the
        distinct rows (2-D input, shape (G, k)) that occur in ``sensitive``, in ascending
        (lexicographic) order, dtype of ``sensitive``; ``index`` is (n,) int64 with
        ``groups[index[i]]`` equal to sample i's value / row.  Combinations of feature values
        that no sample has are not groups.
    """
    ### BEGIN SOLUTION
    groups, index = torch.unique(sensitive, sorted=True, return_inverse=True, dim=0)   # rows when 2-D
    return groups, index
    ### END SOLUTION


def disparity_audit(y_true: torch.Tensor, y_pred: torch.Tensor, sensitive: torch.Tensor,
                    tolerance: float = 0.1) -> Dict[str, object]:
    """Overall, per-group, difference and ratio of the five metrics, and the flagged metrics.

    Args:
        y_true, y_pred: (n,) binary labels and predictions: bool, or 0/1 as int or float.
        sensitive: (n,) or (n, k) integer ids, as in :func:`intersectional_groups`.
        tolerance: a metric is flagged when its difference is strictly greater than this.
        n >= 1.  The inputs are not modified.

    Returns:
        a dict:

        * ``"groups"``, ``"count"``: the groups of :func:`intersectional_groups` and the (G,)
          int64 number of samples in each;
        * ``"overall"``: {metric: Python float} over all n samples (NaN if undefined);
        * ``"by_group"``: {metric: (G,) float64 tensor}, NaN where undefined in a group;
        * ``"difference"``: {metric: Python float} max - min over the groups where the metric
          is defined (0 with one such group, NaN with none);
        * ``"ratio"``: {metric: Python float} min / max over those groups, 1.0 when they are all
          0, NaN with none;
        * ``"flagged"``: list of the metric names whose difference > ``tolerance`` (a NaN
          difference is never flagged), in the order of ``METRICS``.

        Every metric dict has exactly the keys of ``METRICS``.
    """
    ### BEGIN SOLUTION
    groups, idx = intersectional_groups(sensitive)
    G = groups.shape[0]
    t, p = (y_true != 0).double(), (y_pred != 0).double()                 # (n,)

    def counts(index, size):                                               # confusion counts per group
        c = lambda w: torch.bincount(index, weights=w, minlength=size)    # noqa: E731
        return c(t * p), c((1 - t) * p), c(t * (1 - p)), c((1 - t) * (1 - p))   # TP, FP, FN, TN, (size,)

    def metrics(tp, fp, fn, tn):                                           # 0 / 0 = nan where undefined
        return {"accuracy": (tp + tn) / (tp + fp + fn + tn), "precision": tp / (tp + fp),
                "recall": tp / (tp + fn), "fpr": fp / (fp + tn), "selection_rate": (tp + fp) / (tp + fp + fn + tn)}

    by_group = metrics(*counts(idx, G))
    overall = {k: float(v[0]) for k, v in metrics(*counts(torch.zeros_like(idx), 1)).items()}
    difference, ratio = {}, {}
    for k, v in by_group.items():
        d = v[~v.isnan()]
        lo, hi = (float(d.min()), float(d.max())) if d.numel() else (math.nan, math.nan)
        difference[k] = hi - lo
        ratio[k] = 1.0 if hi == 0 else lo / hi
    flagged: List[str] = [k for k in METRICS if difference[k] > tolerance]   # nan > x is False
    return {"groups": groups, "count": torch.bincount(idx, minlength=G), "overall": overall,
            "by_group": by_group, "difference": difference, "ratio": ratio, "flagged": flagged}
    ### END SOLUTION
