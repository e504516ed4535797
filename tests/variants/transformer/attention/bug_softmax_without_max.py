# BUG: hand-written softmax without subtracting the row maximum: exp overflows for large logits.
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def scaled_dot_product_attention(q, k, v, mask=None, is_causal=False):
    if mask is not None and is_causal:
        raise ValueError("give either a mask or is_causal=True, not both")
    L, S = q.size(-2), k.size(-2)
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))              # (..., L, S)
    if is_causal:
        mask = torch.ones(L, S, dtype=torch.bool, device=q.device).tril()
    e = scores.exp()
    if mask is not None:
        e = e * mask
    weights = e / e.sum(dim=-1, keepdim=True).clamp_min(1e-30)
    return weights @ v, weights


class MultiHeadAttention(nn.Module):
    def __init__(self, embed_dim, num_heads, bias=True):
        super().__init__()
        self.embed_dim, self.num_heads = embed_dim, num_heads
        self.head_dim = embed_dim // num_heads
        self.in_proj_weight = nn.Parameter(torch.empty(3 * embed_dim, embed_dim))
        nn.init.xavier_uniform_(self.in_proj_weight)
        if bias:
            self.in_proj_bias = nn.Parameter(torch.zeros(3 * embed_dim))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = nn.Linear(embed_dim, embed_dim, bias=bias)

    def forward(self, query, key, value, key_padding_mask=None, attn_mask=None, need_weights=True):
        B, L, E = query.shape
        S = key.size(1)
        H, hd = self.num_heads, self.head_dim
        w_q, w_k, w_v = self.in_proj_weight.chunk(3)
        b_q, b_k, b_v = (None, None, None) if self.in_proj_bias is None else self.in_proj_bias.chunk(3)
        q = F.linear(query, w_q, b_q).view(B, L, H, hd).transpose(1, 2)     # (B, H, L, hd)
        k = F.linear(key, w_k, b_k).view(B, S, H, hd).transpose(1, 2)       # (B, H, S, hd)
        v = F.linear(value, w_v, b_v).view(B, S, H, hd).transpose(1, 2)     # (B, H, S, hd)
        allowed = torch.ones(B, 1, L, S, dtype=torch.bool, device=query.device)
        if key_padding_mask is not None:
            allowed = allowed & ~key_padding_mask.view(B, 1, 1, S)
        if attn_mask is not None:
            if attn_mask.dim() == 3:
                attn_mask = attn_mask.view(B, H, L, S)
            allowed = allowed & ~attn_mask
        out, weights = scaled_dot_product_attention(q, k, v, mask=allowed)
        out = out.transpose(1, 2).reshape(B, L, E)                          # (B, L, E)
        out = self.out_proj(out)
        return out, (weights.mean(dim=1) if need_weights else None)
