# BUG: disparate impact divides min by max with no guard: nobody selected gives 0/0 = nan and fails the rule.
import math

import torch


def group_rates(y_true, y_pred, sensitive):
    t, p = y_true != 0, y_pred != 0
    groups, idx = torch.unique(sensitive, sorted=True, return_inverse=True)
    G = groups.numel()

    def per_group(mask):
        return torch.bincount(idx, weights=mask.double(), minlength=G)

    count = torch.bincount(idx, minlength=G)
    return {"groups": groups, "count": count, "selection_rate": per_group(p) / count,
            "tpr": per_group(t & p) / per_group(t), "fpr": per_group(~t & p) / per_group(~t)}


def _spread(v):
    d = v[~v.isnan()]
    return float(d.max() - d.min()) if d.numel() else math.nan


def demographic_parity_difference(y_pred, sensitive):
    return _spread(group_rates(y_pred, y_pred, sensitive)["selection_rate"])


def equalized_odds_difference(y_true, y_pred, sensitive):
    r = group_rates(y_true, y_pred, sensitive)
    gaps = [g for g in (_spread(r['tpr']), _spread(r['fpr'])) if not math.isnan(g)]
    return max(gaps)


def disparate_impact(y_pred, sensitive, threshold=0.8):
    rates = group_rates(y_pred, y_pred, sensitive)["selection_rate"]
    lo, hi = float(rates.min()), float(rates.max())
    ratio = lo / hi if hi != 0 else math.nan
    return ratio, ratio >= threshold
