# BUG: an empty denominator gives 0 (scikit-learn's zero_division=0) instead of NaN, so a group without predicted positives has 'precision 0' and inflates the difference.
import math

import torch

METRICS = ("accuracy", "precision", "recall", "fpr", "selection_rate")


def intersectional_groups(sensitive):
    return torch.unique(sensitive, sorted=True, return_inverse=True, dim=0)


def _metrics(tp, fp, fn, tn):
    n = tp + fp + fn + tn
    d = lambda a, b: a / b.clamp(min=1)  # noqa: E731
    return {"accuracy": d(tp + tn, n), "precision": d(tp, tp + fp), "recall": d(tp, tp + fn),
            "fpr": d(fp, fp + tn), "selection_rate": d(tp + fp, n)}


def disparity_audit(y_true, y_pred, sensitive, tolerance=0.1):
    groups, idx = intersectional_groups(sensitive)
    G = groups.shape[0]
    t, p = (y_true != 0).double(), (y_pred != 0).double()

    def count(w, index=idx, size=G):
        return torch.bincount(index, weights=w, minlength=size)

    by_group = _metrics(count(t * p), count((1 - t) * p), count(t * (1 - p)), count((1 - t) * (1 - p)))
    z = torch.zeros_like(idx)
    pooled = _metrics(count(t * p, z, 1), count((1 - t) * p, z, 1), count(t * (1 - p), z, 1),
                      count((1 - t) * (1 - p), z, 1))
    overall = {k: float(v[0]) for k, v in pooled.items()}
    difference, ratio = {}, {}
    for k, v in by_group.items():
        d = v[~v.isnan()]
        lo, hi = (float(d.min()), float(d.max())) if d.numel() else (math.nan, math.nan)
        difference[k] = hi - lo
        ratio[k] = 1.0 if hi == 0 else lo / hi
    flagged = [k for k in METRICS if difference[k] > tolerance]
    return {"groups": groups, "count": torch.bincount(idx, minlength=G), "overall": overall,
            "by_group": by_group, "difference": difference, "ratio": ratio, "flagged": flagged}
