"""Scaled dot-product attention and multi-head attention, the core of the Transformer.

Attention lets every query position read a weighted average of the values, with weights given
by how well the query matches each key (Vaswani et al., "Attention Is All You Need", 2017):

    Attention(Q, K, V) = softmax(Q K^T / sqrt(d)) V

Dividing by sqrt(d) keeps the logits' variance near 1 whatever the key width d, so the softmax
does not saturate.  Masks remove keys a query may not see: padding, or the future in a decoder
(the *causal* mask).  Multi-head attention projects the inputs into ``num_heads`` smaller
subspaces, attends in each one independently, then concatenates the heads and projects back.

Implement both with the contracts of ``torch.nn.functional.scaled_dot_product_attention`` and
``torch.nn.MultiheadAttention(batch_first=True)`` -- without calling them.  Two mask conventions
meet here, exactly as in torch: the function's boolean mask says where a query *may* attend
(True = allowed), the module's masks say where it may *not* (True = blocked).

Inside the module, call your function by its plain name, ``scaled_dot_product_attention(...)``:
the grader's forbidden-call scan flags any *attribute* of that name (``F.…``, but also ``self.…``).
"""
import math
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F


def scaled_dot_product_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    mask: Optional[torch.Tensor] = None,
    is_causal: bool = False,
) -> tuple[torch.Tensor, torch.Tensor]:
    """softmax(q k^T / sqrt(d)) v, returning the output and the attention weights.

    Args:
        q: queries, float tensor ``[..., L, d]``.
        k: keys, ``[..., S, d]`` (same batch dims ``...`` as ``q``; zero or more of them).
        v: values, ``[..., S, dv]`` (``dv`` may differ from ``d``).
        mask: optional boolean tensor broadcastable to ``[..., L, S]``; True means "query i may
            attend to key j", False removes that key from query i's softmax.
        is_causal: if True, query i may attend to key j only when j <= i (the lower triangle of an
            ``[L, S]`` grid, aligned top-left, as torch does -- also when L != S).

    The logits are scaled by ``1 / sqrt(d)``, d being the width of the queries and keys.  A query
    row with no allowed key gets all-zero weights and an all-zero output (never NaN), as torch's
    function gives.  The computation must stay finite for huge logits (e.g. ``q * 1e4``) and be
    differentiable, with finite gradients also through fully masked rows.

    Returns:
        ``(output, weights)``: output ``[..., L, dv]``; weights ``[..., L, S]``, each row summing
        to 1 over the allowed keys (0 on blocked keys).  Both have the dtype of ``q``.

    Raises:
        ValueError: if both ``mask`` and ``is_causal=True`` are given.
    """
    ### BEGIN SOLUTION
    if mask is not None and is_causal:
        raise ValueError("give either a mask or is_causal=True, not both")
    L, S = q.size(-2), k.size(-2)
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))              # (..., L, S)
    if is_causal:
        mask = torch.ones(L, S, dtype=torch.bool, device=q.device).tril()  # top-left aligned
    if mask is None:
        weights = torch.softmax(scores, dim=-1)                            # (..., L, S)
    else:
        # A row with no allowed key would be softmax(-inf, ..., -inf) = NaN: give it zero logits
        # instead (any finite value), then zero its weights.  No NaN in the forward or backward.
        any_allowed = mask.any(dim=-1, keepdim=True)                       # (..., L, 1)
        scores = scores.masked_fill(~mask, float("-inf")).masked_fill(~any_allowed, 0.0)
        weights = torch.softmax(scores, dim=-1).masked_fill(~mask, 0.0)    # (..., L, S)
    return weights @ v, weights                                            # (..., L, dv)
    ### END SOLUTION


class MultiHeadAttention(nn.Module):
    """Multi-head attention, batch first, with the parameters of ``torch.nn.MultiheadAttention``.

    Args:
        embed_dim: E, the width of queries, keys, values and output.
        num_heads: H; E must be divisible by H, each head has width E // H.
        bias: whether the input and output projections have biases.

    Parameters (names and shapes exactly as torch's module, so weights can be copied across):
        ``in_proj_weight`` ``[3E, E]``: the query, key and value projections stacked in that order;
        ``in_proj_bias`` ``[3E]`` (None when ``bias=False``);
        ``out_proj``: an ``nn.Linear(E, E)`` (no bias when ``bias=False``); no other parameters.
    Any initialisation will do (torch uses Xavier-uniform for ``in_proj_weight`` and zero biases).
    """

    def __init__(self, embed_dim: int, num_heads: int, bias: bool = True):
        super().__init__()
        ### BEGIN SOLUTION
        if embed_dim % num_heads != 0:
            raise ValueError("embed_dim must be divisible by num_heads")
        self.embed_dim, self.num_heads = embed_dim, num_heads
        self.head_dim = embed_dim // num_heads
        self.in_proj_weight = nn.Parameter(torch.empty(3 * embed_dim, embed_dim))
        nn.init.xavier_uniform_(self.in_proj_weight)
        if bias:
            self.in_proj_bias = nn.Parameter(torch.zeros(3 * embed_dim))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = nn.Linear(embed_dim, embed_dim, bias=bias)
        if bias:
            nn.init.zeros_(self.out_proj.bias)
        ### END SOLUTION

    def forward(
        self,
        query: torch.Tensor,
        key: torch.Tensor,
        value: torch.Tensor,
        key_padding_mask: Optional[torch.Tensor] = None,
        attn_mask: Optional[torch.Tensor] = None,
        need_weights: bool = True,
    ) -> tuple[torch.Tensor, Optional[torch.Tensor]]:
        """Attend from ``query`` to ``key``/``value`` with every head, then project.

        Args:
            query: ``[B, L, E]``; key: ``[B, S, E]``; value: ``[B, S, E]`` (self-attention passes
                the same tensor three times; cross-attention has S != L).
            key_padding_mask: optional boolean ``[B, S]``; True marks a key (e.g. padding) that no
                query of that batch element may attend to.
            attn_mask: optional boolean ``[L, S]`` (shared by the batch and heads) or
                ``[B * H, L, S]`` (index ``b * H + h``); True means query i may NOT attend to key j.
                Both masks may be given; a key is blocked if either blocks it.
            need_weights: whether to return the attention weights.

        Returns:
            ``(output, weights)``: output ``[B, L, E]``; weights ``[B, L, S]``, the attention
            weights averaged over the heads, or None when ``need_weights=False``.  Agrees with
            ``torch.nn.MultiheadAttention(E, H, bias=bias, batch_first=True)`` holding the same
            parameter values (dropout 0).  Rows where every key is blocked are not graded (torch
            itself gives NaN there when ``need_weights=True``).
        """
        ### BEGIN SOLUTION
        B, L, E = query.shape
        S = key.size(1)
        H, hd = self.num_heads, self.head_dim
        w_q, w_k, w_v = self.in_proj_weight.chunk(3)                        # each (E, E)
        b_q, b_k, b_v = (None, None, None) if self.in_proj_bias is None else self.in_proj_bias.chunk(3)
        q = F.linear(query, w_q, b_q).view(B, L, H, hd).transpose(1, 2)     # (B, H, L, hd)
        k = F.linear(key, w_k, b_k).view(B, S, H, hd).transpose(1, 2)       # (B, H, S, hd)
        v = F.linear(value, w_v, b_v).view(B, S, H, hd).transpose(1, 2)     # (B, H, S, hd)

        allowed = torch.ones(B, 1, L, S, dtype=torch.bool, device=query.device)
        if key_padding_mask is not None:
            allowed = allowed & ~key_padding_mask.view(B, 1, 1, S)          # (B, 1, L, S)
        if attn_mask is not None:
            if attn_mask.dim() == 3:
                attn_mask = attn_mask.view(B, H, L, S)
            allowed = allowed & ~attn_mask                                  # (B, H or 1, L, S)

        out, weights = scaled_dot_product_attention(q, k, v, mask=allowed)  # (B, H, L, hd), (B, H, L, S)
        out = out.transpose(1, 2).reshape(B, L, E)                          # (B, L, E): heads side by side
        out = self.out_proj(out)
        return out, (weights.mean(dim=1) if need_weights else None)         # (B, L, S)
        ### END SOLUTION
