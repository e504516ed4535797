"""ROC curve and ROC AUC, two ways: the trapezoid under the curve and the rank-sum formula.

A scorer ranks examples; the ROC curve shows every trade-off a threshold on that score can make.
Predict "positive" when ``score >= t``; as ``t`` goes down from ``+inf`` the true-positive rate
``TPR = TP / P`` and the false-positive rate ``FPR = FP / N`` both climb from 0 to 1.  The
curve has one point per *distinct* score (examples with equal scores cross the threshold
together, so a tie moves the curve diagonally), plus the starting point ``(0, 0)`` at
``t = +inf`` -- exactly ``sklearn.metrics.roc_curve(y_true, y_score, drop_intermediate=False)``.

The area under it (``sklearn.metrics.roc_auc_score``), by the trapezoid rule, has a
probabilistic meaning: it is the probability that a random positive scores above a random
negative, ties counting one half,

    AUC = P(s_pos > s_neg) + 0.5 * P(s_pos == s_neg).

That is the Mann-Whitney U statistic divided by ``P * N``, which gives an ``O(n log n)`` formula
without any curve: rank all scores from 1 (lowest) to n, giving tied scores the *average* of the
ranks they span, sum the ranks of the positives, ``R``, and

    AUC = (R - P (P + 1) / 2) / (P * N).

With a single class (``P = 0`` or ``N = 0``) neither rate is defined: all three functions raise
``ValueError`` (as scikit-learn's ``roc_auc_score`` did up to 1.7; newer versions warn and
return nan).  Write it in torch (or numpy) without scikit-learn, scipy's ranking or trapezoid
helpers.
"""
from typing import Tuple

import torch


def _positives(y_true: torch.Tensor) -> Tuple[torch.Tensor, int, int]:
    """Boolean positives mask and the class counts; ValueError unless both classes occur."""
    ### BEGIN SOLUTION
    pos = y_true.reshape(-1) != 0
    n_pos = int(pos.sum())
    n_neg = pos.numel() - n_pos
    if n_pos == 0 or n_neg == 0:
        raise ValueError("ROC AUC needs both classes in y_true: "
                         f"got {n_pos} positives and {n_neg} negatives")
    return pos, n_pos, n_neg
    ### END SOLUTION


def roc_curve(y_true: torch.Tensor, y_score: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The ROC curve with one point per distinct score (``drop_intermediate=False``).

    Args:
        y_true: tensor ``(n,)`` of labels 0/1 (int, float or bool dtype); 1 is the positive class.
        y_score: float tensor ``(n,)`` of finite scores (float32 or float64); higher = more positive.

    Returns:
        ``(fpr, tpr, thresholds)``, three float64 tensors of shape ``(k + 1,)`` where ``k`` is the
        number of distinct scores: ``thresholds[0] = +inf`` and ``thresholds[1:]`` are the distinct
        scores in decreasing order (their exact values); ``fpr[i]`` and ``tpr[i]`` are the rates
        of the rule ``score >= thresholds[i]``, so the curve starts at ``(0, 0)`` and ends at
        ``(1, 1)``.  Scores are equal only when exactly equal (no tolerance).

    Raises:
        ValueError: if ``y_true`` holds a single class (or nothing).

    The inputs are not modified.
    """
    ### BEGIN SOLUTION
    pos, n_pos, n_neg = _positives(y_true)
    order = torch.argsort(y_score, descending=True)
    s = y_score[order].to(torch.float64)                                  # (n,) decreasing
    tps = torch.cumsum(pos[order].to(torch.int64), dim=0)                 # (n,) positives with score >= s[i]
    fps = torch.arange(1, s.numel() + 1) - tps                            # (n,) negatives likewise
    # a threshold's point is the LAST index of its run of equal scores
    last = torch.cat([torch.nonzero(s[1:] != s[:-1]).squeeze(1), torch.tensor([s.numel() - 1])])
    zero = torch.zeros(1, dtype=torch.float64)
    fpr = torch.cat([zero, fps[last].to(torch.float64) / n_neg])
    tpr = torch.cat([zero, tps[last].to(torch.float64) / n_pos])
    thresholds = torch.cat([torch.tensor([float("inf")], dtype=torch.float64), s[last]])
    return fpr, tpr, thresholds
    ### END SOLUTION


def roc_auc_score(y_true: torch.Tensor, y_score: torch.Tensor) -> float:
    """Area under :func:`roc_curve`, by the trapezoid rule, as a Python float in ``[0, 1]``.

    Args and Raises as :func:`roc_curve`; the inputs are not modified.  Ties are the diagonal
    segments of the curve, so they count one half: the result equals
    ``P(s_pos > s_neg) + 0.5 * P(s_pos == s_neg)``.
    """
    ### BEGIN SOLUTION
    fpr, tpr, _ = roc_curve(y_true, y_score)
    return float(((fpr[1:] - fpr[:-1]) * (tpr[1:] + tpr[:-1]) / 2).sum())
    ### END SOLUTION


def roc_auc_rank(y_true: torch.Tensor, y_score: torch.Tensor) -> float:
    """The same AUC by the rank-sum (Mann-Whitney U) formula, as a Python float, in O(n log n).

    Ranks go from 1 (lowest score) to n; tied scores all get the average of the ranks they
    span.  ``AUC = (R - P (P + 1) / 2) / (P * N)`` with ``R`` the sum of the positives' ranks.

    Args and Raises as :func:`roc_curve`; must handle n in the millions (no n x n comparison).
    The inputs are not modified.
    """
    ### BEGIN SOLUTION
    pos, n_pos, n_neg = _positives(y_true)
    s, order = torch.sort(y_score.reshape(-1))                           # (n,) increasing
    _, counts = torch.unique_consecutive(s, return_counts=True)          # (k,) sizes of tie groups
    ends = torch.cumsum(counts, dim=0).to(torch.float64)                 # last rank of each group
    avg = ends - (counts.to(torch.float64) - 1) / 2                       # (k,) mean of ranks end-c+1 .. end
    ranks = torch.repeat_interleave(avg, counts)                         # (n,) rank of s[i]
    r_pos = ranks[pos[order]].sum().item()
    return (r_pos - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)
    ### END SOLUTION
