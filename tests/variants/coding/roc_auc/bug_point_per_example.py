# BUG: no tie grouping -- one ROC point per example, so tied scores make a staircase whose area
# depends on how the sort happened to order the tied positives and negatives.
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
    order = torch.argsort(y_score, descending=True)
    s = y_score[order].double()
    tps = torch.cumsum(pos[order].long(), 0)
    fps = torch.arange(1, len(s) + 1) - tps
    zero = torch.zeros(1, dtype=torch.float64)
    return (torch.cat([zero, fps.double() / N]), torch.cat([zero, tps.double() / P]),
            torch.cat([torch.tensor([float("inf")], dtype=torch.float64), s]))


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
