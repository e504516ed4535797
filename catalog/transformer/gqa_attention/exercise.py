"""Grouped-query and multi-query attention: fewer key/value heads than query heads.

When a decoder generates text, its key/value cache -- not its arithmetic -- limits how many
sequences fit on a device: the cache holds ``2 * layers * T * H_kv * head_dim`` numbers per
sequence.  Multi-query attention (MQA; Shazeer, "Fast Transformer Decoding", 2019) lets all H
query heads share ONE key/value head.  Grouped-query attention (GQA; Ainslie et al., 2023; used by
Llama 2 70B, Llama 3, Mistral) sits in between: the H query heads form ``H_kv`` groups of
``H / H_kv`` consecutive heads, and each group shares one key/value head.  ``H_kv = H`` is ordinary
multi-head attention, ``H_kv = 1`` is MQA; the cache shrinks by ``H / H_kv``.

Implement Llama's ``repeat_kv`` helper, the function ``grouped_query_attention`` with the contract
of ``torch.nn.functional.scaled_dot_product_attention(..., enable_gqa=True)`` (without calling it),
and a self-attention module with Llama's projections ``q_proj``, ``k_proj``, ``v_proj``, ``o_proj``
(no biases, and no rotary embedding in this exercise).  Builds on ``transformer/attention`` (the
per-head softmax attention is the same) and ``transformer/kv_cache`` (what the cache holds).
"""
import math
from typing import Optional

import torch
import torch.nn as nn


def repeat_kv(x: torch.Tensor, n_rep: int) -> torch.Tensor:
    """Repeat each key/value head ``n_rep`` times, consecutively (Llama's ``repeat_kv``).

    Args:
        x: ``[B, H_kv, S, d]``.
        n_rep: how many query heads share each key/value head (>= 1).

    Returns:
        ``[B, H_kv * n_rep, S, d]`` whose head ``j`` is ``x``'s head ``j // n_rep``: for
        ``H_kv = 2, n_rep = 3`` the heads are ``[0, 0, 0, 1, 1, 1]`` (like
        ``torch.repeat_interleave(x, n_rep, dim=1)``, not ``x.repeat(1, n_rep, 1, 1)``, which gives
        ``[0, 1, 0, 1, 0, 1]``).  Same dtype as ``x``.
    """
    ### BEGIN SOLUTION
    B, H_kv, S, d = x.shape
    if n_rep == 1:
        return x
    x = x[:, :, None, :, :].expand(B, H_kv, n_rep, S, d)          # (B, H_kv, n_rep, S, d), no copy yet
    return x.reshape(B, H_kv * n_rep, S, d)                       # (B, H_kv * n_rep, S, d)
    ### END SOLUTION


def grouped_query_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    is_causal: bool = False,
    scale: Optional[float] = None,
) -> torch.Tensor:
    """Attention where groups of query heads share a key/value head.

    Args:
        q: queries ``[..., H, L, d]`` (zero or more leading batch dims ``...``; dim -3 is the head).
        k: keys ``[..., H_kv, S, d]``, same leading dims as ``q``.
        v: values ``[..., H_kv, S, dv]`` (``dv`` may differ from ``d``).
        is_causal: query i may attend to key j only when j <= i, the lower triangle of ``[L, S]``
            aligned top-left (as torch does, also when L != S).
        scale: the factor on the logits; None means ``1 / sqrt(d)``.

    Query head ``h`` attends with key/value head ``h // (H // H_kv)``: consecutive query heads
    share a key/value head (heads 0 and 1 use kv head 0 when H = 4, H_kv = 2), exactly as torch's
    ``enable_gqa=True``.  Within a head, ``softmax(scale * q k^T) v`` over the keys.  The result must
    stay finite for huge logits and be differentiable.

    Returns:
        ``[..., H, L, dv]``, the dtype of ``q``.

    Raises:
        ValueError: if ``H`` is not a multiple of ``H_kv``.
    """
    ### BEGIN SOLUTION
    H, H_kv = q.size(-3), k.size(-3)
    if H % H_kv != 0:
        raise ValueError(f"{H} query heads cannot be split into groups for {H_kv} key/value heads")
    n_rep = H // H_kv
    k = k.repeat_interleave(n_rep, dim=-3)                           # (..., H, S, d)
    v = v.repeat_interleave(n_rep, dim=-3)                           # (..., H, S, dv)
    scale = 1 / math.sqrt(q.size(-1)) if scale is None else scale
    scores = (q @ k.transpose(-2, -1)) * scale                       # (..., H, L, S)
    if is_causal:
        L, S = q.size(-2), k.size(-2)
        allowed = torch.ones(L, S, dtype=torch.bool, device=q.device).tril()
        scores = scores.masked_fill(~allowed, float("-inf"))
    return torch.softmax(scores, dim=-1) @ v                         # (..., H, L, dv)
    ### END SOLUTION


class GroupedQueryAttention(nn.Module):
    """Self-attention with ``n_head`` query heads and ``n_kv_head`` key/value heads (Llama's layout).

    Args:
        n_embd: E, the width of the input and output.
        n_head: H, the number of query heads; E divisible by H, head width hd = E // H.
        n_kv_head: H_kv, the number of key/value heads; H divisible by H_kv.

    Parameters (names and shapes as Llama's ``LlamaAttention``, no biases):
        ``q_proj``: ``nn.Linear(E, H * hd)``; ``k_proj`` and ``v_proj``: ``nn.Linear(E, H_kv * hd)``;
        ``o_proj``: ``nn.Linear(H * hd, E)``.  Head h of a projection is its output features
        ``h * hd : (h + 1) * hd``.  No other parameters.
    """

    def __init__(self, n_embd: int, n_head: int, n_kv_head: int):
        super().__init__()
        ### BEGIN SOLUTION
        if n_embd % n_head or n_head % n_kv_head:
            raise ValueError("n_embd must be divisible by n_head, and n_head by n_kv_head")
        self.n_head, self.n_kv_head, self.head_dim = n_head, n_kv_head, n_embd // n_head
        self.q_proj = nn.Linear(n_embd, n_head * self.head_dim, bias=False)
        self.k_proj = nn.Linear(n_embd, n_kv_head * self.head_dim, bias=False)
        self.v_proj = nn.Linear(n_embd, n_kv_head * self.head_dim, bias=False)
        self.o_proj = nn.Linear(n_head * self.head_dim, n_embd, bias=False)
        ### END SOLUTION

    def forward(self, x: torch.Tensor, is_causal: bool = True) -> torch.Tensor:
        """Project ``x`` [B, T, E] to H query heads and H_kv key/value heads, attend with
        ``grouped_query_attention`` (causal unless ``is_causal=False``), put the H heads' outputs
        side by side (head h at features ``h * hd : (h + 1) * hd``) and apply ``o_proj``.

        Returns:
            ``[B, T, E]``, differentiable.
        """
        ### BEGIN SOLUTION
        B, T, _ = x.shape
        hd = self.head_dim
        q = self.q_proj(x).view(B, T, self.n_head, hd).transpose(1, 2)      # (B, H, T, hd)
        k = self.k_proj(x).view(B, T, self.n_kv_head, hd).transpose(1, 2)   # (B, H_kv, T, hd)
        v = self.v_proj(x).view(B, T, self.n_kv_head, hd).transpose(1, 2)   # (B, H_kv, T, hd)
        y = grouped_query_attention(q, k, v, is_causal=is_causal)           # (B, H, T, hd)
        y = y.transpose(1, 2).reshape(B, T, self.n_head * hd)               # (B, T, H * hd)
        return self.o_proj(y)                                               # (B, T, E)
        ### END SOLUTION
