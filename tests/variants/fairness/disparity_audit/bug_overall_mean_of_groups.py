# BUG: the overall value of each metric is the mean of the group values, which weights a small group as much as a large one.
import math

import torch

METRICS = ("accuracy", "precision", "recall", "fpr", "selection_rate")


def intersectional_groups(sensitive):
    return torch.unique(sensitive, sorted=True, return_inverse=True, dim=0)


def _metrics(tp, fp, fn, tn):
    n = tp + fp + fn + tn
    return {"accuracy": (tp + tn) / n, "precision": tp / (tp + fp), "recall": tp / (tp + fn),
            "fpr": fp / (fp + tn), "selection_rate": (tp + fp) / n}


def disparity_audit(y_true, y_pred, sensitive, tolerance=0.1):
    groups, idx = intersectional_groups(sensitive)
    G = groups.shape[0]
    t, p = (y_true != 0).double(), (y_pred != 0).double()

    def count(w, index=idx, size=G):
        return torch.bincount(index, weights=w, minlength=size)

    by_group = _metrics(count(t * p), count((1 - t) * p), count(t * (1 - p)), count((1 - t) * (1 - p)))
    overall = {k: float(v[~v.isnan()].mean()) for k, v in by_group.items()}
    difference, ratio = {}, {}
    for k, v in by_group.items():
        d = v[~v.isnan()]
        lo, hi = (float(d.min()), float(d.max())) if d.numel() else (math.nan, math.nan)
        difference[k] = hi - lo
        ratio[k] = 1.0 if hi == 0 else lo / hi
    flagged = [k for k in METRICS if difference[k] > tolerance]
    return {"groups": groups, "count": torch.bincount(idx, minlength=G), "overall": overall,
            "by_group": by_group, "difference": difference, "ratio": ratio, "flagged": flagged}
