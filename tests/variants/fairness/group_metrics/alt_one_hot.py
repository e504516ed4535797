# CORRECT, written differently: a (n, G) one-hot membership matrix and matrix products for the
# counts; undefined rates set with torch.where; torch.nanmax-free spreads via masked fills.
import torch


def group_rates(y_true, y_pred, sensitive):
    groups = torch.unique(sensitive)                                   # sorted
    M = (sensitive[:, None] == groups[None, :]).double()               # (n, G)
    t = (y_true != 0).double()
    p = (y_pred != 0).double()
    count = M.sum(0)
    pos, neg = t @ M, (1 - t) @ M
    nan = torch.tensor(float("nan"), dtype=torch.float64)
    return {"groups": groups, "count": count.long(),
            "selection_rate": (p @ M) / count,
            "tpr": torch.where(pos > 0, ((t * p) @ M) / pos.clamp(min=1), nan),
            "fpr": torch.where(neg > 0, (((1 - t) * p) @ M) / neg.clamp(min=1), nan)}


def _spread(v):
    ok = ~v.isnan()
    if not ok.any():
        return None
    return (v.masked_fill(~ok, float("-inf")).max() - v.masked_fill(~ok, float("inf")).min()).item()


def demographic_parity_difference(y_pred, sensitive):
    return _spread(group_rates(y_pred, y_pred, sensitive)["selection_rate"])


def equalized_odds_difference(y_true, y_pred, sensitive):
    r = group_rates(y_true, y_pred, sensitive)
    gaps = [g for g in (_spread(r["tpr"]), _spread(r["fpr"])) if g is not None]
    return max(gaps)


def disparate_impact(y_pred, sensitive, threshold=0.8):
    sel = group_rates(y_pred, y_pred, sensitive)["selection_rate"]
    ratio = (sel.min() / sel.max()).item() if sel.max() > 0 else 1.0
    return ratio, ratio >= threshold
