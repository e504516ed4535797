"""IVF search: a coarse quantizer, inverted lists, and nprobe.

Vector databases answer "the k nearest stored vectors to this query" without scanning all of
them.  An *inverted file* index (IVF; Jegou et al., 2011; faiss's ``IndexIVFFlat``) partitions
the stored vectors with a *coarse quantizer* -- ``C`` centroids, usually from k-means -- and keeps
one *inverted list* per centroid: the ids of the vectors nearest to it.  A query then visits only
the lists of its ``nprobe`` nearest centroids and compares exactly with the vectors there:

* ``nprobe = C`` visits everything: exact search, the cost of brute force;
* ``nprobe = 1`` visits about ``N / C`` vectors, but misses a neighbour that sits just across a
  cell boundary -- *recall* (the share of the true k nearest neighbours found) drops.

Distances are squared Euclidean (as faiss's ``METRIC_L2`` reports them).  Ties go to the lower
index everywhere (centroid or vector id).  tests/test_twins_systems_ivf_search.py compares with
``faiss.IndexIVFFlat`` built on the same centroids.
"""
import math
from typing import List, Tuple

import torch


def squared_distances(A: torch.Tensor, B: torch.Tensor) -> torch.Tensor:
    """``||a_i - b_j||^2`` for every pair: ``(n, m)`` from ``A (n, D)`` and ``B (m, D)``, never negative
    (given)."""
    return ((A[:, None, :] - B[None, :, :]) ** 2).sum(-1)


def assign(X: torch.Tensor, centroids: torch.Tensor) -> torch.Tensor:
    """The nearest centroid of every row of ``X (N, D)``: int64 ``(N,)``, ties to the lower index."""
    ### BEGIN SOLUTION
    return squared_distances(X, centroids).argmin(dim=1)               # argmin: the first minimum
    ### END SOLUTION


def build_ivf(X: torch.Tensor, centroids: torch.Tensor) -> List[torch.Tensor]:
    """The inverted lists: ``C`` int64 tensors, list ``c`` holding the ids of the rows assigned to
    centroid ``c`` in increasing order (possibly empty)."""
    ### BEGIN SOLUTION
    labels = assign(X, centroids)
    return [torch.nonzero(labels == c).flatten() for c in range(centroids.shape[0])]
    ### END SOLUTION


def ivf_search(X: torch.Tensor, centroids: torch.Tensor, lists: List[torch.Tensor], queries: torch.Tensor,
               k: int, nprobe: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """Approximate k-NN of every query through the index.

    For each query: the ``nprobe`` nearest centroids (ties to the lower index); the candidates are
    the ids in their lists; rank the candidates by exact squared distance, smallest first, ties to
    the lower id; keep ``k``.

    Args:
        X: ``(N, D)`` stored vectors; centroids: ``(C, D)``; lists: from :func:`build_ivf`;
            queries: ``(Q, D)``; k: ``>= 1``; nprobe: ``1 <= nprobe <= C``.

    Returns:
        ``(distances (Q, k) in X's dtype, ids (Q, k) int64)``; fewer than ``k`` candidates are
        padded with distance ``+inf`` and id ``-1``.  The inputs are not modified.
    """
    ### BEGIN SOLUTION
    Q = queries.shape[0]
    dist = torch.full((Q, k), math.inf, dtype=X.dtype)
    ids = torch.full((Q, k), -1, dtype=torch.int64)
    probe = torch.argsort(squared_distances(queries, centroids), dim=1, stable=True)[:, :nprobe]   # (Q, nprobe)
    for q in range(Q):
        cand = torch.sort(torch.cat([lists[int(c)] for c in probe[q]])).values    # increasing ids
        d = squared_distances(queries[q:q + 1], X[cand])[0]                        # (n_cand,)
        order = torch.argsort(d, stable=True)[:k]                                  # ties keep the lower id
        dist[q, :order.numel()] = d[order]
        ids[q, :order.numel()] = cand[order]
    return dist, ids
    ### END SOLUTION


def recall_at_k(ids: torch.Tensor, true_ids: torch.Tensor) -> float:
    """The share of the true neighbours found: ``ids`` and ``true_ids`` are ``(Q, k)``; for each query
    count the ids of its ``true_ids`` row that appear anywhere in its ``ids`` row (``-1`` padding never
    counts), divide by ``k``, average over the queries."""
    ### BEGIN SOLUTION
    found = (ids[:, :, None] == true_ids[:, None, :]) & (true_ids[:, None, :] >= 0)   # (Q, k, k)
    return float(found.any(dim=1).sum(dim=1).double().mean() / true_ids.shape[1])
    ### END SOLUTION
