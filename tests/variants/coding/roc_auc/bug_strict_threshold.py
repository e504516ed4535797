# BUG: the threshold rule is score > t instead of score >= t, so every point is shifted by one
# threshold and the curve never reaches (1, 1).
import torch


def _classes(y_true):
    pos = y_true.reshape(-1) != 0
    P = int(pos.sum())
    N = pos.numel() - P
    if P == 0 or N == 0:
        raise ValueError("need both classes")
    return pos, P, N


def roc_curve(y_true, y_score):
    pos, P, N = _classes(y_true)
    s = y_score.double().reshape(-1)
    thresholds = torch.cat([torch.tensor([float("inf")], dtype=torch.float64),
                            torch.unique(s).flip(0)])
    fpr = torch.stack([((s > t) & ~pos).sum() for t in thresholds]).double() / N
    tpr = torch.stack([((s > t) & pos).sum() for t in thresholds]).double() / P
    return fpr, tpr, thresholds


def roc_auc_score(y_true, y_score):
    fpr, tpr, _ = roc_curve(y_true, y_score)
    return float(((fpr[1:] - fpr[:-1]) * (tpr[1:] + tpr[:-1]) / 2).sum())


def roc_auc_rank(y_true, y_score):
    pos, P, N = _classes(y_true)
    s, order = torch.sort(y_score)
    _, counts = torch.unique_consecutive(s, return_counts=True)
    ends = torch.cumsum(counts, 0).double()
    ranks = torch.repeat_interleave(ends - (counts.double() - 1) / 2, counts)
    R = ranks[pos[order]].sum().item()
    return (R - P * (P + 1) / 2) / (P * N)
