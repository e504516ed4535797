# BUG: rescales the running output but not the running denominator.
"""FlashAttention's online softmax: exact attention, one tile at a time, never the [L, S] matrix.

Plain attention builds the ``[L, S]`` score matrix, which for long sequences costs more memory
(and memory traffic) than everything else.  FlashAttention (Dao et al., 2022) computes *exactly*
the same output tile by tile: for a block of queries it walks over blocks of keys and keeps, per
query, three running quantities -- the largest logit seen so far ``m``, the softmax denominator
relative to it ``l = sum exp(s - m)``, and the unnormalised output ``acc = sum exp(s - m) v``.
When a new key block raises the maximum to ``m_new``, the old ``l`` and ``acc`` are rescaled by
``exp(m - m_new)``; at the end ``out = acc / l``.  This is the *online softmax* (Milakov &
Gimelshein, 2018).  The same bookkeeping lets attention over two disjoint key sets be merged from
each part's output and log-sum-exp: split-KV decoding ("flash-decoding") and ring attention rest on
that.

Three parts, with the contracts of ``torch.logsumexp`` and
``torch.nn.functional.scaled_dot_product_attention`` (but you may call neither, nor a softmax):

1. ``online_logsumexp``: the online softmax's statistics for one vector, in blocks.
2. ``flash_attention``: tiled attention returning the output and the per-query log-sum-exp, with a
   causal mode that skips key tiles lying wholly in the future.
3. ``merge_attention``: combine two partial attention results.

Builds on ``transformer/attention`` (the formula) and ``transformer/masks`` (the causal triangle).
"""
import math
from typing import Optional

import torch


def online_logsumexp(x: torch.Tensor, block_size: int) -> torch.Tensor:
    """``log(sum(exp(x)))`` over the last dim, reading ``x`` in blocks of ``block_size`` entries.

    Keep a running maximum ``m`` and a running sum ``s = sum exp(x_seen - m)``; for each block,
    raise ``m`` to the block's maximum if larger and rescale ``s`` by ``exp(m_old - m_new)``.  The
    result is ``m + log(s)``.

    Args:
        x: ``[..., N]`` float (``N >= 1``); entries are finite or ``-inf`` (never ``+inf`` or NaN).
        block_size: ``>= 1``; the last block may be shorter (block_size need not divide N, and may
            exceed it).

    Returns:
        ``[...]``, equal to ``torch.logsumexp(x, dim=-1)``: finite for huge entries (1e4 or -1e4),
        ``-inf`` for a row that is all ``-inf`` (never NaN).  The dtype of ``x``.
    """
    m = torch.full(x.shape[:-1], float("-inf"), dtype=x.dtype, device=x.device)    # (...)
    s = torch.zeros(x.shape[:-1], dtype=x.dtype, device=x.device)                  # (...)
    for start in range(0, x.size(-1), block_size):
        block = x[..., start:start + block_size]                                   # (..., b)
        m_new = torch.maximum(m, block.amax(dim=-1))
        # While a row has seen only -inf, m_new is -inf and exp(x - m_new) would be NaN: shift by
        # 0 instead (any finite shift gives s = 0 there).
        shift = torch.where(torch.isneginf(m_new), torch.zeros_like(m_new), m_new)
        s = s * torch.exp(m - shift) + torch.exp(block - shift.unsqueeze(-1)).sum(dim=-1)
        m = m_new
    return m + torch.log(s)          # all -inf: -inf + log(0) = -inf


def flash_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    block_q: int,
    block_k: int,
    is_causal: bool = False,
    scale: Optional[float] = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Exact attention computed tile by tile with the online softmax.

    Args:
        q: ``[..., L, d]``; k: ``[..., S, d]``; v: ``[..., S, dv]`` (same leading dims, zero or more).
        block_q, block_k: tile sizes (>= 1; need not divide L or S; may exceed them).
        is_causal: query i may attend to key j only when j <= i (top-left aligned, as torch, also
            when L != S; every query then still sees key 0).
        scale: the logit factor; None means ``1 / sqrt(d)``.

    Contract of the computation (what makes it FlashAttention):

    * Queries are processed in blocks of ``block_q`` rows and, for each, keys in blocks of
      ``block_k``: scores ``scale * q_tile @ k_tile^T`` are ``[..., <=block_q, <=block_k]``.  No
      intermediate tensor may hold the full ``[..., L, S]`` score matrix, nor any tensor of a
      quarter of its size or more: the graders watch the size of every torch result on a long
      sequence (a ``[..., L, block_k]`` strip is fine; ``[..., L, S]`` is not).
    * With ``is_causal``, a key tile whose keys are all in the future of every query of the query
      tile is skipped, never read (the graders fill such keys and values with NaN); a tile that is
      partly in the future is read and masked.
    * The running statistics per query row are rescaled as in the module docstring; the result
      must stay finite for huge logits (q * 1e4) and be differentiable through autograd (use
      out-of-place updates).

    Returns:
        ``(out, lse)``: out ``[..., L, dv]`` equal to
        ``scaled_dot_product_attention(q, k, v, is_causal=is_causal, scale=scale)``; lse
        ``[..., L]``, the log-sum-exp of each query's (scaled, masked) logits, ``torch.logsumexp``
        of them.  Both in the dtype of ``q``.
    """
    L, S = q.size(-2), k.size(-2)
    lead = q.shape[:-2]
    scale = 1 / math.sqrt(q.size(-1)) if scale is None else scale
    outs, lses = [], []
    for qs in range(0, L, block_q):
        q_tile = q[..., qs:qs + block_q, :] * scale                             # (..., bq, d)
        bq = q_tile.size(-2)
        m = torch.full((*lead, bq), float("-inf"), dtype=q.dtype, device=q.device)   # running max
        l = torch.zeros((*lead, bq), dtype=q.dtype, device=q.device)                 # running denominator
        acc = torch.zeros((*lead, bq, v.size(-1)), dtype=q.dtype, device=q.device)   # running numerator
        # Causal: the last query of this tile is position qs + bq - 1; later keys are never visible.
        k_end = min(S, qs + bq) if is_causal else S
        for ks in range(0, k_end, block_k):
            k_tile, v_tile = k[..., ks:ks + block_k, :], v[..., ks:ks + block_k, :]   # (..., bk, d/dv)
            s = q_tile @ k_tile.transpose(-2, -1)                                # (..., bq, bk)
            if is_causal:
                q_pos = torch.arange(qs, qs + bq, device=q.device).unsqueeze(1)          # absolute
                k_pos = torch.arange(ks, ks + k_tile.size(-2), device=q.device).unsqueeze(0)
                s = s.masked_fill(k_pos > q_pos, float("-inf"))
            m_new = torch.maximum(m, s.amax(dim=-1))                            # (..., bq): finite
            p = torch.exp(s - m_new.unsqueeze(-1))                              # (..., bq, bk)
            alpha = torch.exp(m - m_new)                                        # rescales the old sums
            l = l + p.sum(dim=-1)
            acc = acc * alpha.unsqueeze(-1) + p @ v_tile                        # (..., bq, dv)
            m = m_new
        outs.append(acc / l.unsqueeze(-1))
        lses.append(m + torch.log(l))
    return torch.cat(outs, dim=-2), torch.cat(lses, dim=-1)                    # (..., L, dv), (..., L)


def merge_attention(
    out_a: torch.Tensor, lse_a: torch.Tensor, out_b: torch.Tensor, lse_b: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Attention over the union of two disjoint key sets, from each set's own attention result.

    Args:
        out_a, out_b: ``[..., L, dv]``, attention of the same queries over key set A and key set B.
        lse_a, lse_b: ``[..., L]``, the log-sum-exp of each query's logits over that set; ``-inf``
            where a query sees no key of that set (its ``out`` row is then zeros).

    Returns:
        ``(out, lse)``: the attention over A and B together and its log-sum-exp:
        ``lse = log(exp(lse_a) + exp(lse_b))`` and ``out = exp(lse_a - lse) out_a +
        exp(lse_b - lse) out_b``.  Finite when the two lse differ hugely (e.g. 1e4 apart); where
        both are ``-inf``, ``lse`` is ``-inf`` and ``out`` is zeros (never NaN).
    """
    lse = torch.logaddexp(lse_a, lse_b)                                         # (..., L)
    shift = torch.where(torch.isneginf(lse), torch.zeros_like(lse), lse)        # both empty: weights 0
    w_a = torch.exp(lse_a - shift).unsqueeze(-1)                                # (..., L, 1)
    w_b = torch.exp(lse_b - shift).unsqueeze(-1)
    return w_a * out_a + w_b * out_b, lse
