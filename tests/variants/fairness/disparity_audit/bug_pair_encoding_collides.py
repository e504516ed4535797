# BUG: combines two features into one id as a * 10 + b (and three as ((a * 10) + b) * 10 + c): rows such as (1, 2) and (0, 12) collide into one group, and the groups come back as codes.
import math

import torch

METRICS = ("accuracy", "precision", "recall", "fpr", "selection_rate")


def intersectional_groups(sensitive):
    code = sensitive if sensitive.dim() == 1 else sensitive[:, 0]
    for j in range(1, 1 if sensitive.dim() == 1 else sensitive.shape[1]):
        code = code * 10 + sensitive[:, j]
    _, index = torch.unique(code, sorted=True, return_inverse=True)
    first = torch.zeros(int(index.max()) + 1, dtype=torch.long).scatter_(0, index, torch.arange(len(index)))
    return sensitive[first], index


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
