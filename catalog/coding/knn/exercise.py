"""k-nearest neighbours: classification by majority vote, regression by the mean.

k-NN has no training step: it stores the training set and, for each query, finds the ``k``
training points closest to it (Euclidean distance) and lets them decide -- the most frequent
label among them (classification) or the mean of their targets (regression).

The work is the distance matrix between all queries and all training points.  Computing it
with a Python loop, or by broadcasting ``(q, 1, d) - (1, n, d)`` (a ``q * n * d`` tensor), is
slow or memory-hungry; the standard trick expands the square,

    ||a - b||^2 = ||a||^2 + ||b||^2 - 2 a.b,

so that the whole ``(q, n)`` matrix is one matrix product plus two broadcast vectors.  The
expansion subtracts large, nearly equal numbers, so for nearby points it can round to a tiny
*negative* value and ``sqrt`` would give ``nan``: clamp at 0 before the square root.

Results are defined exactly, ties included: neighbours are sorted by increasing distance and
equal distances go to the LOWER training index (a stable sort; ``torch.topk`` does not promise
that order); a vote tied between labels goes to the SMALLEST label (as scikit-learn's, whose
``KNeighborsClassifier`` / ``KNeighborsRegressor(algorithm="brute")`` this mirrors on tie-free
data).  Write it in torch without ``torch.cdist`` or scikit-learn.
"""
from typing import Tuple

import torch


def pairwise_distances(A: torch.Tensor, B: torch.Tensor) -> torch.Tensor:
    """Euclidean distances between every row of ``A`` and every row of ``B``.

    Args:
        A: float tensor ``(m, d)``.
        B: float tensor ``(n, d)`` of A's dtype.

    Returns:
        ``(m, n)`` tensor of A's dtype, ``out[i, j] = ||A[i] - B[j]||``, computed by the expansion
        ``sqrt(clamp(||a||^2 + ||b||^2 - 2 a.b, min=0))``: finite and ``>= 0`` everywhere (the
        distance of a point to itself is 0 up to rounding, never ``nan``).  ``A`` and ``B`` are
        not modified.
    """
    ### BEGIN SOLUTION
    a2 = (A * A).sum(dim=1, keepdim=True)               # (m, 1)
    b2 = (B * B).sum(dim=1)[None, :]                    # (1, n)
    d2 = a2 + b2 - 2.0 * (A @ B.T)                      # (m, n)
    return d2.clamp_min(0.0).sqrt()
    ### END SOLUTION


def kneighbors(X_train: torch.Tensor, X_query: torch.Tensor, k: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """The ``k`` nearest training points of every query.

    Args:
        X_train: float tensor ``(n, d)``.
        X_query: float tensor ``(q, d)`` of X_train's dtype.
        k: the number of neighbours, ``1 <= k <= n`` (otherwise ``ValueError``).

    Returns:
        ``(distances, indices)``, both ``(q, k)``: the distances (X_train's dtype, from
        :func:`pairwise_distances`) in increasing order, and the int64 indices of those
        training points; equal distances are ordered by increasing training index.
    """
    ### BEGIN SOLUTION
    n = X_train.shape[0]
    if not 1 <= k <= n:
        raise ValueError(f"k must be between 1 and the number of training points ({n}), got {k}")
    D = pairwise_distances(X_query, X_train)            # (q, n)
    dist, idx = torch.sort(D, dim=1, stable=True)       # stable: ties keep the lower index first
    return dist[:, :k], idx[:, :k]
    ### END SOLUTION


def knn_predict(X_train: torch.Tensor, y_train: torch.Tensor, X_query: torch.Tensor, k: int,
                task: str = "classification") -> torch.Tensor:
    """Predict every query from its ``k`` nearest training points (uniform weights).

    Args:
        X_train: float tensor ``(n, d)``.
        y_train: ``(n,)``: int64 class labels of any values (e.g. -1 and 1) for
            ``task="classification"``; float targets for ``task="regression"``.
        X_query: float tensor ``(q, d)``.
        k: the number of neighbours, ``1 <= k <= n`` (otherwise ``ValueError``).
        task: ``"classification"`` or ``"regression"`` (otherwise ``ValueError``).

    Returns:
        ``(q,)``: for classification, the most frequent label among the neighbours, the SMALLEST
        such label when several are equally frequent (int64); for regression, the mean of the
        neighbours' targets (y_train's dtype).  The neighbours are those of :func:`kneighbors`.
        No input is modified.
    """
    ### BEGIN SOLUTION
    if task not in ("classification", "regression"):
        raise ValueError(f"task must be 'classification' or 'regression', got {task!r}")
    _, idx = kneighbors(X_train, X_query, k)            # (q, k)
    votes = y_train[idx]                                # (q, k)
    if task == "regression":
        return votes.mean(dim=1)
    classes, codes = torch.unique(y_train, sorted=True, return_inverse=True)   # (C,), (n,)
    counts = torch.zeros(votes.shape[0], len(classes), dtype=torch.long)
    counts.scatter_add_(1, codes[idx], torch.ones_like(idx))                   # (q, C) votes per class
    return classes[counts.argmax(dim=1)]                # argmax returns the first (smallest) of tied classes
    ### END SOLUTION
