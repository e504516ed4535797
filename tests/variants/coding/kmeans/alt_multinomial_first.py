# CORRECT, written differently: the first centre is drawn with torch.multinomial on equal weights instead of
# torch.randint (the docstring leaves the way each draw is made free; only its distribution is graded).
"""k-means clustering: Lloyd's algorithm with k-means++ seeding.

k-means looks for ``k`` centres that minimise the *inertia*, the sum of squared distances from
each point to its nearest centre.  Lloyd's algorithm alternates two steps, each of which can
only lower the inertia:

* **assign**: every point joins its nearest centre (a tie goes to the centre of lower index);
* **update**: every centre moves to the mean of the points assigned to it.  A centre with no
  points keeps its position (scikit-learn relocates it to a far point instead; we keep it
  simple and deterministic).

It stops when an assignment step changes no label (the next update would not move anything) or
after ``max_iter`` updates.  The result depends on the starting centres: *k-means++* (Arthur &
Vassilvitskii, 2007) picks the first centre uniformly among the points and every next one at
random with probability proportional to ``D(x)^2``, the squared distance from ``x`` to the
nearest centre chosen so far -- far, uncovered regions are likely to receive a centre, which
makes the expected inertia O(log k)-competitive with the optimum.

This mirrors ``sklearn.cluster.KMeans(init=centres, n_init=1, algorithm="lloyd")`` (given the
same starting centres, the same centres, labels and inertia) and the classic k-means++ of the
paper (scikit-learn's ``kmeans_plusplus`` adds greedy local trials; ours does not).  Write it in
torch: squared distances for all pairs at once, ``torch.multinomial`` with the ``generator`` you
are given for the random draws.
"""
from typing import Optional, Tuple

import torch


def kmeans_plusplus(X: torch.Tensor, k: int, generator: torch.Generator) -> torch.Tensor:
    """k-means++ seeding: ``k`` starting centres chosen among the rows of ``X``.

    Args:
        X: float tensor ``(n, d)`` with at least ``k`` distinct rows.
        k: the number of centres, ``1 <= k <= n``.
        generator: the only source of randomness (the global RNG is not touched).

    The first centre is a row drawn uniformly at random; every next centre is row ``j`` with
    probability ``D_j^2 / sum_i D_i^2``, where ``D_j`` is the distance from row ``j`` to the
    NEAREST centre chosen so far (so a chosen row, with ``D = 0``, is never drawn again).
    How each draw is made is yours to choose (``torch.randint`` or ``torch.multinomial`` on equal
    weights for the first, ``torch.multinomial`` or inverse-CDF sampling for the others): only
    the probabilities are graded, and that the same generator seed gives the same centres.

    Returns:
        a new tensor ``(k, d)`` of X's dtype: the chosen rows, in the order they were chosen.
        ``X`` is not modified.
    """
    n = X.shape[0]
    first = int(torch.multinomial(torch.ones(n, dtype=torch.float64), 1, generator=generator))
    idx = [first]
    d2 = ((X - X[first]) ** 2).sum(dim=1)                       # (n,) squared distance to the nearest centre
    for _ in range(1, k):
        j = int(torch.multinomial(d2, 1, generator=generator))
        idx.append(j)
        d2 = torch.minimum(d2, ((X - X[j]) ** 2).sum(dim=1))
    return X[idx].clone()                                       # (k, d)


def lloyd(X: torch.Tensor, init: torch.Tensor, max_iter: int = 300
          ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Lloyd's iterations from the given starting centres.

    Args:
        X: float tensor ``(n, d)``.
        init: float tensor ``(k, d)`` of X's dtype, the starting centres (any points, not only rows of X).
        max_iter: the largest number of update steps (0 returns ``init`` and its assignment).

    Repeat at most ``max_iter`` times: assign every point to its nearest centre (ties to the
    lower index); if no label changed since the previous assignment, stop; otherwise move every
    centre to the mean of its points (a centre without points stays where it is).

    Returns:
        ``(centres (k, d) of X's dtype, labels (n,) int64, inertia 0-dim tensor of X's dtype)``,
        where ``labels`` is the nearest-centre assignment to the RETURNED centres and ``inertia``
        the sum of squared distances of the points to them.  ``X`` and ``init`` are not modified.
    """
    def assign(C):
        """(labels, squared distances) of every point's nearest centre; ties to the lower index."""
        d2 = (X * X).sum(1, keepdim=True) + (C * C).sum(1)[None, :] - 2 * X @ C.T   # (n, k) by the expansion
        best, nearest = d2.clamp_min(0).min(dim=1)              # min returns the first index of a tie
        return nearest, best

    k = init.shape[0]
    centres = init.clone()
    labels = None
    for _ in range(max_iter):
        new_labels, _ = assign(centres)
        if labels is not None and torch.equal(new_labels, labels):
            break
        labels = new_labels
        onehot = torch.nn.functional.one_hot(labels, k).to(X.dtype)    # (n, k)
        counts = onehot.sum(0)                                          # (k,)
        sums = onehot.T @ X                                             # (k, d)
        moved = counts > 0
        centres[moved] = sums[moved] / counts[moved, None]
    labels, d2 = assign(centres)
    return centres, labels, d2.sum()


def kmeans(X: torch.Tensor, k: int, max_iter: int = 300, generator: Optional[torch.Generator] = None
           ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """k-means: ``lloyd(X, kmeans_plusplus(X, k, generator), max_iter)``.

    ``generator`` None means a fresh ``torch.Generator()`` seeded from the global RNG
    (``torch.randint``), so that results follow ``torch.manual_seed``.  Returns what
    :func:`lloyd` returns.
    """
    if generator is None:
        generator = torch.Generator().manual_seed(int(torch.randint(2**62, ())))
    return lloyd(X, kmeans_plusplus(X, k, generator), max_iter)
