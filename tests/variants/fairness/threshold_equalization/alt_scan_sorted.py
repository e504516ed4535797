# CORRECT, written differently: plain Python per group -- walk the positives' scores from the
# highest down, grouping equal scores, and keep the best (gap, -threshold) seen; apply by a dict.
import math

import torch


def equal_opportunity_thresholds(scores, y_true, sensitive, target_tpr):
    by_group = {}
    for sc, y, g in zip(scores.double().tolist(), y_true.tolist(), sensitive.tolist()):
        by_group.setdefault(g, [])
        if y:
            by_group[g].append(sc)
    ids = sorted(by_group)
    thresholds, tprs = [], []
    for g in ids:
        pos = sorted(by_group[g], reverse=True)
        P = len(pos)
        if P == 0:
            thresholds.append(math.inf)
            tprs.append(math.nan)
            continue
        best = (abs(0.0 - target_tpr), -math.inf, math.inf, 0.0)   # (gap, -t, t, tpr) for t = +inf
        i = 0
        while i < P:
            t = pos[i]
            while i < P and pos[i] == t:                          # take every positive tied at t
                i += 1
            tpr = i / P
            cand = (abs(tpr - target_tpr), -t, t, tpr)
            if cand[:2] < best[:2]:
                best = cand
        thresholds.append(best[2])
        tprs.append(best[3])
    return {"groups": torch.tensor(ids, dtype=sensitive.dtype),
            "thresholds": torch.tensor(thresholds, dtype=torch.float64),
            "tpr": torch.tensor(tprs, dtype=torch.float64)}


def apply_thresholds(scores, sensitive, groups, thresholds):
    cut = dict(zip(groups.tolist(), thresholds.double().tolist()))
    return torch.tensor([int(sc >= cut[g]) for sc, g in zip(scores.double().tolist(), sensitive.tolist())],
                        dtype=torch.int64)
