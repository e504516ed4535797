# BUG: equalized odds takes Python's max(tpr_gap, fpr_gap) with a NaN gap: max(nan, x) is nan, so with no positives anywhere the result is nan.
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
    return max(_spread(r['tpr']), _spread(r['fpr']))


def disparate_impact(y_pred, sensitive, threshold=0.8):
    rates = group_rates(y_pred, y_pred, sensitive)["selection_rate"]
    lo, hi = float(rates.min()), float(rates.max())
    ratio = 1.0 if hi == 0 else lo / hi
    return ratio, ratio >= threshold
