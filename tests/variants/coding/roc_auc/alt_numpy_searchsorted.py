# CORRECT, written differently: numpy throughout. The curve counts, for every distinct threshold,
# the positives and negatives at or above it by binary search in the sorted class scores; the
# average rank of a value is (#below) + (#equal + 1) / 2, also by binary search (no tie groups).
import numpy as np
import torch


def _split(y_true, y_score):
    y = y_true.detach().cpu().numpy().reshape(-1).astype(bool)
    s = y_score.detach().cpu().numpy().reshape(-1).astype(np.float64)
    if y.all() or not y.any():
        raise ValueError(f"only one class in y_true ({y.size} labels)")
    return y, s


def roc_curve(y_true, y_score):
    y, s = _split(y_true, y_score)
    sp, sn = np.sort(s[y]), np.sort(s[~y])
    t = np.unique(s)[::-1]                                       # distinct scores, decreasing
    tp = sp.size - np.searchsorted(sp, t, side="left")           # positives with score >= t
    fp = sn.size - np.searchsorted(sn, t, side="left")
    fpr = np.concatenate([[0.0], fp / sn.size])
    tpr = np.concatenate([[0.0], tp / sp.size])
    thr = np.concatenate([[np.inf], t])
    return torch.from_numpy(fpr), torch.from_numpy(tpr), torch.from_numpy(thr.copy())


def roc_auc_score(y_true, y_score):
    fpr, tpr, _ = (a.numpy() for a in roc_curve(y_true, y_score))
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1])) / 2)


def roc_auc_rank(y_true, y_score):
    y, s = _split(y_true, y_score)
    ordered = np.sort(s)
    below = np.searchsorted(ordered, s[y], side="left")
    equal = np.searchsorted(ordered, s[y], side="right") - below
    R = float(np.sum(below + (equal + 1) / 2))
    P, N = int(y.sum()), int((~y).sum())
    return (R - P * (P + 1) / 2) / (P * N)
