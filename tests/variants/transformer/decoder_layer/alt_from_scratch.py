# CORRECT, written differently: attention written by hand with separate q/k/v slices of
# in_proj_weight, masks combined into one boolean "allowed" tensor, the causal mask built by
# comparing position indices, the layer norms through F.layer_norm.
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def causal_mask(size):
    i = torch.arange(size)
    return i[None, :] > i[:, None]            # key index after query index


class Attention(nn.Module):
    def __init__(self, e, h, p):
        super().__init__()
        self.h, self.p = h, p
        self.in_proj_weight = nn.Parameter(torch.empty(3 * e, e).uniform_(-0.1, 0.1))
        self.in_proj_bias = nn.Parameter(torch.zeros(3 * e))
        self.out_proj = nn.Linear(e, e)

    def forward(self, query, kv, mask=None, key_padding=None):
        B, T, E = query.shape
        S, h = kv.shape[1], self.h
        wq, wk, wv = self.in_proj_weight[:E], self.in_proj_weight[E:2 * E], self.in_proj_weight[2 * E:]
        bq, bk, bv = self.in_proj_bias[:E], self.in_proj_bias[E:2 * E], self.in_proj_bias[2 * E:]
        q = F.linear(query, wq, bq).view(B, T, h, -1).permute(0, 2, 1, 3)
        k = F.linear(kv, wk, bk).view(B, S, h, -1).permute(0, 2, 1, 3)
        v = F.linear(kv, wv, bv).view(B, S, h, -1).permute(0, 2, 1, 3)
        allowed = torch.ones(B, h, T, S, dtype=torch.bool)
        if mask is not None:
            allowed = allowed & ~(mask.view(B, h, T, S) if mask.dim() == 3 else mask)
        if key_padding is not None:
            allowed = allowed & ~key_padding.view(B, 1, 1, S)
        scores = (q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(q.shape[-1]))
        scores = scores.masked_fill(~allowed, float("-inf"))
        w = F.dropout(scores.softmax(-1), self.p, self.training)
        return self.out_proj((w @ v).permute(0, 2, 1, 3).reshape(B, T, E))


class DecoderLayer(nn.Module):
    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation="relu", layer_norm_eps=1e-5):
        super().__init__()
        self.self_attn = Attention(d_model, nhead, dropout)
        self.multihead_attn = Attention(d_model, nhead, dropout)
        self.linear1 = nn.Linear(d_model, dim_feedforward)
        self.linear2 = nn.Linear(dim_feedforward, d_model)
        self.norm1, self.norm2, self.norm3 = (nn.LayerNorm(d_model, eps=layer_norm_eps) for _ in range(3))
        self.act = activation
        self.p = dropout

    def _norm(self, norm, x):
        return F.layer_norm(x, x.shape[-1:], norm.weight, norm.bias, norm.eps)

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None):
        d = lambda t: F.dropout(t, self.p, self.training)  # noqa: E731
        a = self._norm(self.norm1, tgt + d(self.self_attn(tgt, tgt, tgt_mask, tgt_key_padding_mask)))
        b = self._norm(self.norm2, a + d(self.multihead_attn(a, memory, memory_mask, memory_key_padding_mask)))
        hidden = F.gelu(self.linear1(b)) if self.act == "gelu" else F.relu(self.linear1(b))
        return self._norm(self.norm3, b + d(self.linear2(d(hidden))))
