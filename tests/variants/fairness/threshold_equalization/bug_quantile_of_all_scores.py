# BUG: confuses TPR with the selection rate: picks each group's threshold so that a fraction
# target_tpr of ALL the group's samples (positives and negatives) is accepted.
import math

import torch


def equal_opportunity_thresholds(scores, y_true, sensitive, target_tpr):
    groups = torch.unique(sensitive, sorted=True)
    thresholds, tprs = [], []
    for g in groups:
        mine = scores[sensitive == g].double()
        pos = scores[(sensitive == g) & (y_true != 0)].double()
        if pos.numel() == 0:
            thresholds.append(math.inf)
            tprs.append(math.nan)
            continue
        cand = torch.cat([torch.tensor([math.inf], dtype=torch.float64), mine.unique(sorted=True).flip(0)])
        rate = (mine[None, :] >= cand[:, None]).double().mean(1)             # selection rate
        best = int(torch.argmin((rate - target_tpr).abs()))
        thresholds.append(float(cand[best]))
        tprs.append(float((pos >= cand[best]).double().mean()))
    return {"groups": groups, "thresholds": torch.tensor(thresholds, dtype=torch.float64),
            "tpr": torch.tensor(tprs, dtype=torch.float64)}


def apply_thresholds(scores, sensitive, groups, thresholds):
    j = torch.searchsorted(groups, sensitive)
    return (scores.double() >= thresholds.double()[j]).long()
