"""A decision stump: the best single split of a dataset by Gini impurity decrease.

A decision tree is grown one split at a time, and every split is this exercise: over every
feature ``j`` and every threshold ``t``, send the rows with ``x_j <= t`` left and the others
right, and keep the split that lowers the weighted Gini impurity the most.  The stump is the
depth-1 tree -- ``sklearn.tree.DecisionTreeClassifier(max_depth=1, criterion="gini")`` -- and
the weak learner of AdaBoost, which is why sample weights matter.

With class weights ``w_c`` (the summed sample weights of class c in a node, total ``W``) the
Gini impurity is ``G = 1 - sum_c (w_c / W)^2``: the chance that two draws from the node, with
replacement and by weight, disagree.  A split of the parent (total ``W``) into left and right
(totals ``W_L``, ``W_R``) decreases it by

    gain = G(parent) - (W_L / W) G(left) - (W_R / W) G(right).

Only thresholds between two *distinct* neighbouring values can separate rows, so, as
scikit-learn does, the candidates of a feature are the midpoints of its consecutive sorted
distinct values ``a < b``: ``t = a / 2 + b / 2`` in float64 (this form cannot overflow for
values near 1e308, where ``a + b`` does).  When ``a`` and ``b`` are adjacent floats the midpoint
can round up to ``b``, which would send ``b`` left as well; then use ``t = a``.

The usual O(d n log n) algorithm sorts each feature once and gets the left class weights of
every cut position from a cumulative sum -- but a cut between two EQUAL values is no candidate.

Write it in torch (or numpy) without scikit-learn.
"""
from typing import NamedTuple, Optional

import torch


class Stump(NamedTuple):
    """A fitted stump: rows with ``X[:, feature] <= threshold`` are predicted ``left_class``,
    the others ``right_class``; ``gain`` is the split's weighted Gini impurity decrease."""

    feature: int
    threshold: float
    left_class: int
    right_class: int
    gain: float


def gini(counts: torch.Tensor) -> torch.Tensor:
    """Gini impurity ``1 - sum_c p_c^2`` of (weighted) class totals along the last dimension.

    Args:
        counts: float tensor ``(..., C)`` of non-negative class totals (counts or summed weights).

    Returns:
        a tensor of shape ``counts.shape[:-1]`` and counts' dtype, with ``p_c = counts_c / total``;
        0 where the total is 0 (an empty node is pure), never nan.  ``counts`` is not modified.
    """
    ### BEGIN SOLUTION
    total = counts.sum(dim=-1, keepdim=True)                                # (..., 1)
    p = counts / total.clamp_min(torch.finfo(counts.dtype).tiny)            # (..., C), 0 where total is 0
    return torch.where(total.squeeze(-1) > 0, 1 - (p * p).sum(dim=-1), torch.zeros_like(total.squeeze(-1)))
    ### END SOLUTION


def fit_stump(X: torch.Tensor, y: torch.Tensor, sample_weight: Optional[torch.Tensor] = None) -> Stump:
    """The split ``(feature, threshold)`` of largest Gini gain, and its two leaf predictions.

    Args:
        X: float tensor ``(n, d)`` (float32 or float64), n >= 1, finite.
        y: int64 tensor ``(n,)`` of class labels in ``0 .. C - 1`` with ``C = y.max() + 1``
           (a label may be absent).
        sample_weight: optional float tensor ``(n,)`` of strictly positive weights; None means
           every row weighs 1.  Weights enter every class total, hence every Gini and every
           ``W_L / W``.

    Candidates are every feature and every midpoint threshold (see the module); the best has the
    largest gain.  Gains within 1e-12 of the largest count as tied: among those take the lowest
    feature index, then the lowest threshold.  A zero best gain is still a split.

    Returns:
        a :class:`Stump` of Python scalars: ``feature`` (int), ``threshold`` (float, computed in
        float64), ``left_class`` / ``right_class`` (int: the class of largest total weight on
        that side, the lowest label on a tie) and ``gain`` (float).  If no feature has two
        distinct values there is no split: ``Stump(-1, inf, m, m, 0.0)`` with ``m`` the majority
        class of all rows.  ``X``, ``y`` and ``sample_weight`` are not modified.
    """
    ### BEGIN SOLUTION
    n, d = X.shape
    C = int(y.max()) + 1
    w = torch.ones(n, dtype=torch.float64) if sample_weight is None else sample_weight.to(torch.float64)
    onehot = torch.nn.functional.one_hot(y, C).to(torch.float64) * w[:, None]       # (n, C)
    total = onehot.sum(dim=0)                                                       # (C,)
    xs, order = torch.sort(X.to(torch.float64), dim=0)                              # (n, d) each column sorted
    left = torch.cumsum(onehot[order], dim=0)[:-1]                                  # (n-1, d, C) left totals per cut
    right = total - left                                                            # (n-1, d, C)
    WL, WR, W = left.sum(-1), right.sum(-1), total.sum()                            # (n-1, d), (n-1, d), ()
    gain = gini(total) - (WL / W) * gini(left) - (WR / W) * gini(right)             # (n-1, d)
    valid = xs[1:] > xs[:-1]                                                        # cut between distinct values
    if not valid.any():
        m = int(torch.argmax(total))
        return Stump(-1, float("inf"), m, m, 0.0)
    gain = torch.where(valid, gain, torch.full_like(gain, -float("inf")))
    tied = (gain >= gain.max() - 1e-12).T.reshape(-1)                               # (d * (n-1),) feature-major
    j, i = divmod(int(torch.nonzero(tied)[0]), n - 1)                               # lowest feature, then cut
    a, b = xs[i, j].item(), xs[i + 1, j].item()
    t = a / 2 + b / 2
    if t == b:                                                                      # adjacent floats: keep b right
        t = a
    return Stump(j, t, int(torch.argmax(left[i, j])), int(torch.argmax(right[i, j])), gain[i, j].item())
    ### END SOLUTION


def predict_stump(stump: Stump, X: torch.Tensor) -> torch.Tensor:
    """Class predictions, int64 ``(n,)``: ``left_class`` where ``X[:, feature] <= threshold``.

    The comparison is done in float64 (a float32 copy of the threshold could round onto a data
    value).  ``feature = -1`` (no split) predicts ``left_class`` everywhere.
    """
    ### BEGIN SOLUTION
    if stump.feature < 0:
        return torch.full((X.shape[0],), stump.left_class, dtype=torch.int64)
    go_left = X[:, stump.feature].to(torch.float64) <= stump.threshold
    return torch.where(go_left, stump.left_class, stump.right_class).to(torch.int64)
    ### END SOLUTION
