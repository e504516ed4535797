# BUG: builds the full cartesian product of the features' values, keeping combinations that no
# sample has: those "groups" have count 0 and NaN metrics, and the group list has the wrong size.
import itertools
import math

import torch

METRICS = ("accuracy", "precision", "recall", "fpr", "selection_rate")


def intersectional_groups(sensitive):
    cols = sensitive[:, None] if sensitive.dim() == 1 else sensitive
    values = [torch.unique(cols[:, j]).tolist() for j in range(cols.shape[1])]
    combos = list(itertools.product(*values))
    lookup = {c: i for i, c in enumerate(combos)}
    index = torch.tensor([lookup[tuple(r)] for r in cols.tolist()])
    groups = torch.tensor(combos, dtype=sensitive.dtype)
    return (groups[:, 0] if sensitive.dim() == 1 else groups), index


def disparity_audit(y_true, y_pred, sensitive, tolerance=0.1):
    groups, idx = intersectional_groups(sensitive)
    G = groups.shape[0]
    t, p = (y_true != 0).double(), (y_pred != 0).double()
    c = lambda w: torch.bincount(idx, weights=w, minlength=G)  # noqa: E731
    tp, fp, fn, tn = c(t * p), c((1 - t) * p), c(t * (1 - p)), c((1 - t) * (1 - p))
    n = tp + fp + fn + tn
    by_group = {"accuracy": (tp + tn) / n, "precision": tp / (tp + fp), "recall": tp / (tp + fn),
                "fpr": fp / (fp + tn), "selection_rate": (tp + fp) / n}
    TP, FP, FN, TN = (float(x.sum()) for x in (tp, fp, fn, tn))
    div = lambda a, b: a / b if b else math.nan  # noqa: E731
    overall = {"accuracy": div(TP + TN, len(t)), "precision": div(TP, TP + FP), "recall": div(TP, TP + FN),
               "fpr": div(FP, FP + TN), "selection_rate": div(TP + FP, len(t))}
    difference, ratio = {}, {}
    for k, v in by_group.items():
        d = v[~v.isnan()]
        lo, hi = (float(d.min()), float(d.max())) if d.numel() else (math.nan, math.nan)
        difference[k] = hi - lo
        ratio[k] = 1.0 if hi == 0 else lo / hi
    return {"groups": groups, "count": torch.bincount(idx, minlength=G), "overall": overall,
            "by_group": by_group, "difference": difference, "ratio": ratio,
            "flagged": [k for k in METRICS if difference[k] > tolerance]}
