# CORRECT, written differently: flattens the batch dims and uses an additive float bias
# (0 / -inf, with a 0 row where nothing is allowed) and baddbmm; the module projects with the
# full in_proj_weight and keeps its slice, and splits heads with reshape + permute.
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def scaled_dot_product_attention(q, k, v, mask=None, is_causal=False):
    if mask is not None and is_causal:
        raise ValueError("pass a mask or is_causal=True, not both")
    *batch, L, d = q.shape
    S, dv = k.shape[-2], v.shape[-1]
    q3, k3, v3 = q.reshape(-1, L, d), k.reshape(-1, S, d), v.reshape(-1, S, dv)   # (N, L, d) ...
    if is_causal:
        mask = torch.ones(L, S, dtype=torch.bool).tril()
    bias = torch.zeros(q3.shape[0], L, S, dtype=q.dtype)
    if mask is not None:
        allowed = torch.broadcast_to(mask, (*batch, L, S)).reshape(-1, L, S)      # (N, L, S)
        bias = bias.masked_fill(~allowed, -math.inf)
        bias = torch.where(allowed.any(-1, keepdim=True), bias, torch.zeros_like(bias))
    scores = torch.baddbmm(bias, q3, k3.transpose(1, 2), alpha=1.0 / math.sqrt(d))  # (N, L, S)
    w = F.softmax(scores, dim=-1)
    if mask is not None:
        w = w * allowed
    return torch.bmm(w, v3).reshape(*batch, L, dv), w.reshape(*batch, L, S)


class MultiHeadAttention(nn.Module):
    def __init__(self, embed_dim, num_heads, bias=True):
        super().__init__()
        self.embed_dim, self.num_heads = embed_dim, num_heads
        self.in_proj_weight = nn.Parameter(nn.init.xavier_uniform_(torch.empty(3 * embed_dim, embed_dim)))
        if bias:
            self.in_proj_bias = nn.Parameter(torch.zeros(3 * embed_dim))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = nn.Linear(embed_dim, embed_dim, bias=bias)

    def _heads(self, x, part):
        E, H = self.embed_dim, self.num_heads
        B, T, _ = x.shape
        y = F.linear(x, self.in_proj_weight, self.in_proj_bias)[..., part * E:(part + 1) * E]  # (B, T, E)
        return y.reshape(B, T, H, E // H).permute(0, 2, 1, 3)                                # (B, H, T, hd)

    def forward(self, query, key, value, key_padding_mask=None, attn_mask=None, need_weights=True):
        B, L, E = query.shape
        S, H = key.shape[1], self.num_heads
        q, k, v = self._heads(query, 0), self._heads(key, 1), self._heads(value, 2)
        mask = None
        if key_padding_mask is not None or attn_mask is not None:
            blocked = torch.zeros(B, H, L, S, dtype=torch.bool)
            if key_padding_mask is not None:
                blocked = blocked | key_padding_mask.reshape(B, 1, 1, S)
            if attn_mask is not None:
                blocked = blocked | (attn_mask.reshape(B, H, L, S) if attn_mask.dim() == 3 else attn_mask)
            mask = ~blocked
        o, w = scaled_dot_product_attention(q, k, v, mask=mask)               # (B, H, L, hd), (B, H, L, S)
        o = o.permute(0, 2, 1, 3).flatten(2)                                   # (B, L, E)
        return self.out_proj(o), (w.sum(1) / H if need_weights else None)
