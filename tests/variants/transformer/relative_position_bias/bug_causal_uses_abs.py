# BUG: measures the causal distance as |j - i|, so future keys get the buckets of past ones.
"""T5's relative position bias: learned scalars per head for log-spaced distance buckets.

T5 (Raffel et al., 2020) adds no position embedding to its inputs.  Instead every attention layer
adds to the logit of (query i, key j) a learned number that depends only on the relative position
``j - i`` -- one per head and per *bucket* of distances.  Small distances get a bucket each; larger
ones share logarithmically wider buckets up to ``max_distance``, beyond which everything falls
into the last bucket.  Encoders are bidirectional (half the buckets for keys before the query,
half for keys after); decoders are causal and only bucket the past.

Implement the bucketing exactly as T5 does (Hugging Face's ``T5Attention._relative_position_bucket``
and ``compute_bias``), and T5's attention with it -- which, unlike the original transformer, does
NOT divide the logits by sqrt(d) (T5 folds that scale into its initialisation).  Builds on
``transformer/attention``.
"""
import math

import torch


def relative_position_bucket(relative_position: torch.Tensor, bidirectional: bool = True,
                             num_buckets: int = 32, max_distance: int = 128) -> torch.Tensor:
    """The bucket of each relative position ``j - i`` (a long tensor of any shape).

    Bidirectional: half the buckets (``num_buckets // 2``) serve each direction; keys AFTER the
    query (``j - i > 0``) use the upper half (their bucket is offset by ``num_buckets // 2``), and
    the distance is ``n = |j - i|``.  Causal (``bidirectional=False``): only the past counts,
    ``n = max(i - j, 0)`` (every key after the query lands in bucket 0).

    Then, with ``B`` the buckets of the direction (``num_buckets // 2`` or ``num_buckets``) and
    ``exact = B // 2``: a distance ``n < exact`` is its own bucket ``n``; a larger one goes to
    ``exact + int(log(n / exact) / log(max_distance / exact) * (B - exact))`` (truncated toward
    zero, computed in float32 as T5 does), capped at ``B - 1``.

    Returns:
        long tensor of the same shape.
    """
    buckets = torch.zeros_like(relative_position)
    if bidirectional:
        num_buckets //= 2
        buckets = buckets + (relative_position > 0).long() * num_buckets
        n = relative_position.abs()
    else:
        n = relative_position.abs()
    exact = num_buckets // 2
    is_small = n < exact
    large = exact + (torch.log(n.float() / exact) / math.log(max_distance / exact)
                     * (num_buckets - exact)).long()                   # log(0) is only taken where n < exact
    large = torch.clamp(large, max=num_buckets - 1)
    return buckets + torch.where(is_small, n, large)


def compute_bias(table: torch.Tensor, L: int, S: int, bidirectional: bool, max_distance: int = 128,
                 query_offset: int = 0) -> torch.Tensor:
    """The bias ``[1, H, L, S]`` from the learned ``table`` ``[num_buckets, H]``.

    Query i sits at position ``query_offset + i`` (the tokens already in a cache come first), key j
    at position j; ``bias[0, h, i, j] = table[bucket(j - (query_offset + i)), h]`` with
    ``relative_position_bucket(..., bidirectional, num_buckets=table.size(0), max_distance)``.
    Differentiable with respect to ``table`` (it is a learned parameter).
    """
    q_pos = torch.arange(L).unsqueeze(1) + query_offset                  # (L, 1)
    k_pos = torch.arange(S).unsqueeze(0)                                  # (1, S)
    buckets = relative_position_bucket(k_pos - q_pos, bidirectional, table.size(0), max_distance)   # (L, S)
    return table[buckets].permute(2, 0, 1).unsqueeze(0)                   # (1, H, L, S)


def t5_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, bias: torch.Tensor,
                 causal: bool = False) -> torch.Tensor:
    """T5's attention: ``softmax(q k^T + bias) v`` -- NO 1/sqrt(d) scaling.

    Args:
        q: ``[B, H, L, d]``; k: ``[B, H, S, d]``; v: ``[B, H, S, dv]``.
        bias: broadcastable to ``[B, H, L, S]`` (e.g. ``compute_bias``'s ``[1, H, L, S]``).
        causal: if True, query i may not attend to keys j > i (top-left triangle).

    Returns:
        ``[B, H, L, dv]``; differentiable with respect to q, k, v and bias.
    """
    scores = q @ k.transpose(-2, -1) + bias                               # (B, H, L, S)
    if causal:
        L, S = q.size(-2), k.size(-2)
        allowed = torch.ones(L, S, dtype=torch.bool, device=q.device).tril()
        scores = scores.masked_fill(~allowed, float("-inf"))
    return torch.softmax(scores, dim=-1) @ v
