# BUG: uses the raw group ids as bincount indices, assuming ids 0..G-1: negative ids crash, and
# gaps in the ids create empty "groups" whose NaN rates it then reports.
import math

import torch


def group_rates(y_true, y_pred, sensitive):
    t, p = (y_true != 0).double(), (y_pred != 0).double()
    s = sensitive.long()
    count = torch.bincount(s)
    pos, neg = torch.bincount(s, weights=t), torch.bincount(s, weights=1 - t)
    return {"groups": torch.arange(count.numel()), "count": count,
            "selection_rate": torch.bincount(s, weights=p) / count,
            "tpr": torch.bincount(s, weights=t * p) / pos,
            "fpr": torch.bincount(s, weights=(1 - t) * p) / neg}


def _spread(v):
    v = v[~v.isnan()]
    return float(v.max() - v.min()) if v.numel() else math.nan


def demographic_parity_difference(y_pred, sensitive):
    return _spread(group_rates(y_pred, y_pred, sensitive)["selection_rate"])


def equalized_odds_difference(y_true, y_pred, sensitive):
    r = group_rates(y_true, y_pred, sensitive)
    return max(g for g in (_spread(r["tpr"]), _spread(r["fpr"])) if not math.isnan(g))


def disparate_impact(y_pred, sensitive, threshold=0.8):
    rates = group_rates(y_pred, y_pred, sensitive)["selection_rate"]
    rates = rates[~rates.isnan()]
    ratio = 1.0 if rates.max() == 0 else float(rates.min() / rates.max())
    return ratio, ratio >= threshold
