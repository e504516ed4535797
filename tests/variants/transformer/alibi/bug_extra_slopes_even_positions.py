# BUG: takes the extra slopes of the 2p-head sequence at even positions (2, 4, ...) instead of odd ones.
"""ALiBi: attention with linear biases instead of position embeddings.

Position embeddings added to the input tie a model to the lengths it was trained on.  ALiBi (Press
et al., "Train Short, Test Long", 2022; used by BLOOM and MPT) adds no embedding at all: each head h
penalises a key by its distance from the query, ``bias = -m_h * (i - j)`` added to the attention
logit of query position i and key position j <= i.  The slopes ``m_h`` form a geometric sequence,
so some heads look far back and others only nearby, and because the penalty only depends on the
distance, the model extrapolates to sequences longer than any it saw in training.

Implement the slopes (with the paper's rule for a number of heads that is not a power of two, as
Hugging Face's BLOOM computes them), the bias, and causal attention with it.  Builds on
``transformer/attention`` and ``transformer/masks``.
"""
import math

import torch


def alibi_slopes(n_heads: int) -> torch.Tensor:
    """The ALiBi slope of each head, float32 ``[n_heads]``.

    For ``n`` a power of two: ``m_h = 2 ** (-8 * h / n)`` for ``h = 1 .. n`` (n = 8: 1/2, 1/4, ...,
    1/256).  Otherwise, with ``p`` the largest power of two below ``n``: the ``p`` slopes for ``p``
    heads, followed by the first ``n - p`` of the slopes for ``2p`` heads taken at ODD positions
    h = 1, 3, 5, ... (so the extra heads interleave between the existing ones).
    """
    p = 2 ** math.floor(math.log2(n_heads))

    def geometric(n: int, hs: torch.Tensor) -> torch.Tensor:
        return 2.0 ** (-8.0 * hs / n)

    slopes = geometric(p, torch.arange(1, p + 1, dtype=torch.float64))
    if p != n_heads:
        extra = geometric(2 * p, torch.arange(2, 2 * (n_heads - p) + 1, 2, dtype=torch.float64))
        slopes = torch.cat([slopes, extra])
    return slopes.float()


def alibi_bias(slopes: torch.Tensor, L: int, S: int) -> torch.Tensor:
    """The bias ``[H, L, S]`` for ``L`` queries that are the LAST L of ``S`` positions.

    Query i sits at position ``p = S - L + i`` (bottom-right, as with a KV cache); its bias for key
    j is ``-slopes[h] * (p - j)`` for ``j <= p`` (0 on the diagonal, more negative further back)
    and ``-inf`` for ``j > p`` (the causal mask).  Dtype of ``slopes``.
    """
    q_pos = torch.arange(S - L, S).unsqueeze(1)                       # (L, 1)
    k_pos = torch.arange(S).unsqueeze(0)                              # (1, S)
    distance = (q_pos - k_pos).to(slopes.dtype)                       # (L, S)
    bias = -slopes.view(-1, 1, 1) * distance                          # (H, L, S)
    return bias.masked_fill(k_pos > q_pos, float("-inf"))


def alibi_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Causal attention with ALiBi: ``softmax(q k^T / sqrt(d) + alibi_bias(alibi_slopes(H), L, S)) v``.

    Args:
        q: ``[B, H, L, d]``; k: ``[B, H, S, d]``; v: ``[B, H, S, dv]`` with ``S >= L`` (the queries
            are the last L positions).

    Returns:
        ``[B, H, L, dv]``, the dtype of q; finite for huge logits, differentiable.
    """
    H, L, S = q.size(1), q.size(2), k.size(2)
    bias = alibi_bias(alibi_slopes(H).to(q.dtype), L, S)              # (H, L, S)
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.size(-1)) + bias   # (B, H, L, S)
    return torch.softmax(scores, dim=-1) @ v
