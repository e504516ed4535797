# BUG: apply_thresholds uses score > threshold, so the positive whose score IS the threshold is rejected and the reported TPR is not reached.
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
        inf = torch.tensor([math.inf], dtype=torch.float64)
        cand = torch.cat([inf, pos.unique(sorted=True).flip(0)])
        tpr = (P - torch.searchsorted(pos, cand, right=False)).double() / P
        best = int(torch.argmin((tpr - target_tpr).abs()))
        thresholds.append(float(cand[best]))
        tprs.append(float(tpr[best]))
    f64 = lambda v: torch.tensor(v, dtype=torch.float64)  # noqa: E731
    return {"groups": groups, "thresholds": f64(thresholds), "tpr": f64(tprs)}


def apply_thresholds(scores, sensitive, groups, thresholds):
    j = torch.searchsorted(groups, sensitive)
    return (scores.double() > thresholds.double()[j]).long()
