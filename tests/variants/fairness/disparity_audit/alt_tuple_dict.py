# CORRECT, written differently: one pass over the samples into a dict keyed by tuples of feature
# values, confusion counts as Python ints, metrics as Python floats with None for undefined.
import torch

METRICS = ("accuracy", "precision", "recall", "fpr", "selection_rate")


def intersectional_groups(sensitive):
    rows = [tuple(r) if sensitive.dim() == 2 else r for r in sensitive.tolist()]
    keys = sorted(set(rows))
    where = {k: i for i, k in enumerate(keys)}
    groups = torch.tensor([list(k) for k in keys] if sensitive.dim() == 2 else keys, dtype=sensitive.dtype)
    if sensitive.dim() == 2:
        groups = groups.reshape(len(keys), sensitive.shape[1])
    return groups, torch.tensor([where[r] for r in rows], dtype=torch.int64)


def _rates(tp, fp, fn, tn):
    def div(a, b):
        return a / b if b else float("nan")
    n = tp + fp + fn + tn
    return {"accuracy": div(tp + tn, n), "precision": div(tp, tp + fp), "recall": div(tp, tp + fn),
            "fpr": div(fp, fp + tn), "selection_rate": div(tp + fp, n)}


def disparity_audit(y_true, y_pred, sensitive, tolerance=0.1):
    groups, index = intersectional_groups(sensitive)
    G = groups.shape[0]
    cm = [[0, 0, 0, 0] for _ in range(G)]                       # tp, fp, fn, tn
    for t, p, i in zip(y_true.tolist(), y_pred.tolist(), index.tolist()):
        cm[i][(0 if t else 1) if p else (2 if t else 3)] += 1
    per = [_rates(*c) for c in cm]
    overall = _rates(*[sum(c[j] for c in cm) for j in range(4)])
    by_group, difference, ratio = {}, {}, {}
    for m in METRICS:
        vals = [r[m] for r in per]
        by_group[m] = torch.tensor(vals, dtype=torch.float64)
        ok = [v for v in vals if v == v]
        if not ok:
            difference[m] = ratio[m] = float("nan")
        else:
            difference[m] = max(ok) - min(ok)
            ratio[m] = min(ok) / max(ok) if max(ok) > 0 else 1.0
    return {"groups": groups, "count": torch.tensor([sum(c) for c in cm], dtype=torch.int64), "overall": overall,
            "by_group": by_group, "difference": difference, "ratio": ratio,
            "flagged": [m for m in METRICS if difference[m] == difference[m] and difference[m] > tolerance]}
