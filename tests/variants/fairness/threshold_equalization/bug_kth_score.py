# BUG: takes the k-th largest positive score with k = round(target * P); with tied scores the TPR jumps past the target, and round() decides exact ties instead of the larger-threshold rule.
import math

import torch


def equal_opportunity_thresholds(scores, y_true, sensitive, target_tpr):
    groups = torch.unique(sensitive, sorted=True)
    thresholds, tprs = [], []
    for g in groups:
        pos = scores[(sensitive == g) & (y_true != 0)].double().sort().values
        P = pos.numel()
        if P == 0:
            thresholds.append(math.inf)
            tprs.append(math.nan)
            continue
        k = round(target_tpr * P)
        t = math.inf if k == 0 else float(pos.flip(0)[k - 1])
        thresholds.append(t)
        tprs.append(float((pos >= t).double().mean()))
    f64 = lambda v: torch.tensor(v, dtype=torch.float64)  # noqa: E731
    return {"groups": groups, "thresholds": f64(thresholds), "tpr": f64(tprs)}


def apply_thresholds(scores, sensitive, groups, thresholds):
    j = torch.searchsorted(groups, sensitive)
    return (scores.double() >= thresholds.double()[j]).long()
