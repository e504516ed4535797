# CORRECT, written differently: multi-head self-attention and layer norm written out by hand
# (own in_proj_weight / out_proj parameters, an additive float mask, einsum over heads).
import math

import torch
import torch.nn as nn


class SelfAttention(nn.Module):
    def __init__(self, d_model, nhead, dropout):
        super().__init__()
        self.h = nhead
        self.in_proj_weight = nn.Parameter(torch.randn(3 * d_model, d_model) / math.sqrt(d_model))
        self.in_proj_bias = nn.Parameter(torch.zeros(3 * d_model))
        self.out_proj = nn.Linear(d_model, d_model)
        self.p = dropout

    def forward(self, x, blocked):
        B, L, E = x.shape
        q, k, v = (x @ self.in_proj_weight.T + self.in_proj_bias).split(E, dim=-1)
        q, k, v = (t.reshape(B, L, self.h, E // self.h) for t in (q, k, v))
        logits = torch.einsum("blhd,bmhd->bhlm", q, k) / math.sqrt(E // self.h)
        logits = logits + torch.zeros_like(logits).masked_fill(blocked, -math.inf)
        w = torch.softmax(logits, dim=-1)
        w = nn.functional.dropout(w, self.p, self.training)
        out = torch.einsum("bhlm,bmhd->blhd", w, v).reshape(B, L, E)
        return self.out_proj(out)


class LayerNorm(nn.Module):
    def __init__(self, d, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.bias = nn.Parameter(torch.zeros(d))
        self.eps = eps

    def forward(self, x):
        mu = x.mean(-1, keepdim=True)
        var = (x - mu).pow(2).mean(-1, keepdim=True)
        return (x - mu) / torch.sqrt(var + self.eps) * self.weight + self.bias


class EncoderLayer(nn.Module):
    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation="relu",
                 layer_norm_eps=1e-5, norm_first=False):
        super().__init__()
        self.self_attn = SelfAttention(d_model, nhead, dropout)
        self.linear1 = nn.Linear(d_model, dim_feedforward)
        self.linear2 = nn.Linear(dim_feedforward, d_model)
        self.norm1 = LayerNorm(d_model, layer_norm_eps)
        self.norm2 = LayerNorm(d_model, layer_norm_eps)
        self.act = nn.GELU() if activation == "gelu" else nn.ReLU()
        self.p = dropout
        self.norm_first = norm_first

    def forward(self, src, src_mask=None, src_key_padding_mask=None):
        B, L, _ = src.shape
        H = self.self_attn.h
        blocked = torch.zeros(B, H, L, L, dtype=torch.bool, device=src.device)
        if src_mask is not None:
            blocked = blocked | (src_mask.reshape(B, H, L, L) if src_mask.dim() == 3 else src_mask)
        if src_key_padding_mask is not None:
            blocked = blocked | src_key_padding_mask[:, None, None, :]
        drop = lambda t: nn.functional.dropout(t, self.p, self.training)  # noqa: E731
        sa = lambda t: drop(self.self_attn(t, blocked))  # noqa: E731
        ff = lambda t: drop(self.linear2(drop(self.act(self.linear1(t)))))  # noqa: E731
        if self.norm_first:
            h = src + sa(self.norm1(src))
            return h + ff(self.norm2(h))
        h = self.norm1(src + sa(src))
        return self.norm2(h + ff(h))
