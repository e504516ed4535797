# CORRECT, written differently: per-query loop over tied groups found by sorting (torch.unique_consecutive), sklearn-style.
"""Ranking metrics, one query at a time: sort, find the tied groups, spread each group's labels
evenly over the positions it occupies (sklearn's _tie_averaged_dcg)."""
from typing import Optional

import torch


def _group_average(score_row, values, weights):
    """sum over tied groups of mean(values in group) * sum(weights of the group's positions)."""
    order = torch.sort(score_row, descending=True, stable=True).indices
    _, counts = torch.unique_consecutive(score_row[order], return_counts=True)
    total = torch.zeros((), dtype=weights.dtype)
    start = 0
    for c in counts.tolist():
        group = order[start:start + c]
        total = total + values[group].mean() * weights[start:start + c].sum()
        start += c
    return total


def _per_query(scores, relevance, fn):
    return torch.stack([fn(scores[q], relevance[q].to(scores.dtype)) for q in range(scores.shape[0])])


def precision_at_k(scores: torch.Tensor, relevance: torch.Tensor, k: int) -> torch.Tensor:
    N = scores.shape[1]
    w = torch.zeros(N, dtype=scores.dtype)
    w[:k] = 1.0 / k
    return _per_query(scores, relevance, lambda s, r: _group_average(s, (r > 0).to(s.dtype), w))


def recall_at_k(scores: torch.Tensor, relevance: torch.Tensor, k: int) -> torch.Tensor:
    N = scores.shape[1]
    w = torch.zeros(N, dtype=scores.dtype)
    w[:k] = 1.0

    def one(s, r):
        hits = (r > 0).to(s.dtype)
        n = hits.sum()
        return _group_average(s, hits, w) / n if n > 0 else torch.zeros((), dtype=s.dtype)
    return _per_query(scores, relevance, one)


def reciprocal_rank(scores: torch.Tensor, relevance: torch.Tensor) -> torch.Tensor:
    def one(s, r):
        ranked = r[torch.argsort(s, descending=True)]
        idx = torch.nonzero(ranked > 0)
        return 1.0 / (idx[0, 0] + 1).to(s.dtype) if len(idx) else torch.zeros((), dtype=s.dtype)
    return _per_query(scores, relevance, one)


def ndcg_at_k(scores: torch.Tensor, relevance: torch.Tensor, k: Optional[int] = None) -> torch.Tensor:
    N = scores.shape[1]
    disc = 1.0 / torch.log2(torch.arange(2, N + 2, dtype=scores.dtype))
    if k is not None:
        disc[k:] = 0

    def one(s, r):
        ideal = (torch.sort(r, descending=True).values * disc).sum()
        if ideal == 0:
            return torch.zeros((), dtype=s.dtype)
        return _group_average(s, r, disc) / ideal
    return _per_query(scores, relevance, one)
