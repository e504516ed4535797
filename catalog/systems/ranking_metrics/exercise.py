"""Offline ranking metrics: precision@k, recall@k, reciprocal rank and NDCG@k, batched over queries.

A search or recommendation model scores ``N`` candidate items for each of ``Q`` queries; the
ranking is the items sorted by decreasing score.  Offline evaluation compares that ranking with
relevance labels, and these four numbers are what an ML-system-design interview expects you to
know and to compute without a library:

* **precision@k** -- the fraction of the top ``k`` positions that hold a relevant item;
* **recall@k** -- the fraction of all relevant items that made it into the top ``k``;
* **reciprocal rank** -- ``1 / rank`` of the first relevant item (its mean over queries is MRR);
* **NDCG@k** -- discounted cumulative gain of the top ``k``, ``sum gain(rel) / log2(rank + 1)``,
  divided by the DCG of the ideal ranking (the items sorted by their TRUE relevance), so 1 is perfect.

Conventions, those of ``sklearn.metrics.ndcg_score`` (which NDCG here must match exactly):

* graded relevance ``rel >= 0``; an item is *relevant* for precision, recall and reciprocal rank
  when ``rel > 0``;
* **linear gain**: an item of relevance ``rel`` contributes ``rel`` (sklearn), not the
  ``2**rel - 1`` "exponential gain" of Burges et al. (2005) that LightGBM's lambdarank uses;
* the discount of rank ``r`` (counted from 1) is ``1 / log2(r + 1)``;
* **ties**: items with equal scores have no order among them.  precision@k, recall@k and NDCG@k
  are the expected value when ties are broken uniformly at random.  Because these metrics add up
  one weight per position, that is the same as crediting every item of a tied group with the
  *average* of the position weights the group occupies -- what ``ndcg_score(..., ignore_ties=False)``
  does.  Reciprocal rank is only defined here for tie-free scores.

Rank the items in torch (comparisons, sorting, ``cumsum``), without scikit-learn or torchmetrics.
"""
from typing import Optional

import torch


def _tie_averaged_weights(scores: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """The expected position weight of every item when ties in ``scores`` are broken at random.

    An optional helper for the three tie-averaged metrics (the graders call only the public ones).

    Args:
        scores: ``(Q, N)`` float tensor.
        weights: ``(N,)`` float tensor, ``weights[p]`` is the weight of position ``p + 1``.

    An item with ``a`` items scored strictly above it and ``t`` items (itself included) scored
    equal to it occupies each of positions ``a + 1 .. a + t`` with probability ``1 / t``.

    Returns:
        ``(Q, N)`` tensor: the mean of ``weights`` over the positions each item may occupy.
    """
    ### BEGIN SOLUTION
    above = (scores.unsqueeze(1) > scores.unsqueeze(2)).sum(-1)      # (Q, N): items scored above item i
    tied = (scores.unsqueeze(1) == scores.unsqueeze(2)).sum(-1)      # (Q, N): items tied with i, i included
    cum = torch.cat([weights.new_zeros(1), weights.cumsum(0)])       # (N + 1,) cum[p] = sum of the first p weights
    return (cum[above + tied] - cum[above]) / tied
    ### END SOLUTION


def precision_at_k(scores: torch.Tensor, relevance: torch.Tensor, k: int) -> torch.Tensor:
    """Precision@k of every query: (number of relevant items in the top ``k``) / ``k``.

    Args:
        scores: ``(Q, N)`` float tensor (float32 or float64), higher is better.
        relevance: ``(Q, N)`` tensor of relevance labels ``>= 0`` (bool, int or float);
            an item is relevant when its label is ``> 0``.
        k: cutoff, an int ``>= 1``.  The denominator is always ``k``, also when ``k > N``
            (positions past the end hold nothing relevant).

    Ties in ``scores`` count as broken uniformly at random (the expected precision).

    Returns:
        ``(Q,)`` tensor of ``scores``' dtype.  The inputs are not modified.
    """
    ### BEGIN SOLUTION
    N = scores.shape[1]
    in_top_k = (torch.arange(N) < k).to(scores.dtype)               # (N,) position weights
    hit = (relevance > 0).to(scores.dtype)                           # (Q, N)
    return (hit * _tie_averaged_weights(scores, in_top_k)).sum(-1) / k
    ### END SOLUTION


def recall_at_k(scores: torch.Tensor, relevance: torch.Tensor, k: int) -> torch.Tensor:
    """Recall@k of every query: (relevant items in the top ``k``) / (relevant items in the query).

    Same arguments and tie rule as :func:`precision_at_k`.  A query without any relevant item has
    recall 0 (not NaN).

    Returns:
        ``(Q,)`` tensor of ``scores``' dtype.  The inputs are not modified.
    """
    ### BEGIN SOLUTION
    N = scores.shape[1]
    in_top_k = (torch.arange(N) < k).to(scores.dtype)
    hit = (relevance > 0).to(scores.dtype)                           # (Q, N)
    found = (hit * _tie_averaged_weights(scores, in_top_k)).sum(-1)
    total = hit.sum(-1)
    return torch.where(total > 0, found / total.clamp(min=1), torch.zeros_like(found))
    ### END SOLUTION


def reciprocal_rank(scores: torch.Tensor, relevance: torch.Tensor) -> torch.Tensor:
    """Reciprocal rank of every query: ``1 / rank`` of its highest-ranked relevant item.

    Args:
        scores: ``(Q, N)`` float tensor with no ties within a query; rank 1 is the highest score.
        relevance: ``(Q, N)`` labels ``>= 0``; relevant means ``> 0``.

    A query without any relevant item has reciprocal rank 0.  MRR is the mean of the result.

    Returns:
        ``(Q,)`` tensor of ``scores``' dtype.  The inputs are not modified.
    """
    ### BEGIN SOLUTION
    rank = 1 + (scores.unsqueeze(1) > scores.unsqueeze(2)).sum(-1)   # (Q, N) rank of every item
    rr = torch.where(relevance > 0, 1.0 / rank.to(scores.dtype), torch.zeros_like(scores))
    return rr.max(dim=-1).values
    ### END SOLUTION


def ndcg_at_k(scores: torch.Tensor, relevance: torch.Tensor, k: Optional[int] = None) -> torch.Tensor:
    """NDCG@k of every query, as ``sklearn.metrics.ndcg_score(relevance, scores, k=k)`` per row.

    Args:
        scores: ``(Q, N)`` float tensor (float32 or float64), higher is better.
        relevance: ``(Q, N)`` graded relevance ``>= 0`` (bool, int or float); the gain of an
            item is its relevance (linear gain; ``True`` counts 1).
        k: only the top ``k`` positions count; ``None`` (or ``k >= N``) means all ``N``.

    ``DCG@k = sum over positions r <= k of rel(item at r) / log2(r + 1)``, with ties broken
    uniformly at random (expected DCG).  The ideal DCG@k is the DCG@k of the items sorted by
    ``relevance`` itself.  ``NDCG@k = DCG@k / ideal DCG@k``, and 0 for a query whose ideal DCG
    is 0 (no relevant item).

    Returns:
        ``(Q,)`` tensor of ``scores``' dtype, each in ``[0, 1]``.  The inputs are not modified.
    """
    ### BEGIN SOLUTION
    N = scores.shape[1]
    k = N if k is None else min(k, N)
    pos = torch.arange(N, dtype=scores.dtype)
    discount = torch.where(pos < k, 1.0 / torch.log2(pos + 2), torch.zeros_like(pos))   # (N,) rank r = pos + 1
    gain = relevance.to(scores.dtype)                                                   # (Q, N)
    dcg = (gain * _tie_averaged_weights(scores, discount)).sum(-1)
    ideal = (gain.sort(dim=-1, descending=True).values * discount).sum(-1)
    return torch.where(ideal > 0, dcg / torch.where(ideal > 0, ideal, 1.0), torch.zeros_like(dcg))
    ### END SOLUTION
