# CORRECT, written differently: never materialises the repeated keys -- the query heads are reshaped into [H_kv, n_rep] groups and attend with einsum; repeat_kv indexes with a head map; the module uses unflatten/flatten.
import math
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F


def repeat_kv(x: torch.Tensor, n_rep: int) -> torch.Tensor:
    heads = torch.arange(x.size(1) * n_rep, device=x.device) // n_rep      # kv head of each output head
    return x.index_select(1, heads)


def grouped_query_attention(q, k, v, is_causal=False, scale: Optional[float] = None):
    *lead, H, L, d = q.shape
    H_kv, S = k.shape[-3], k.shape[-2]
    if H % H_kv:
        raise ValueError("H must be a multiple of H_kv")
    qg = q.reshape(*lead, H_kv, H // H_kv, L, d)                           # (..., H_kv, n_rep, L, d)
    logits = torch.einsum("...gnld,...gsd->...gnls", qg, k)
    logits = logits * (scale if scale is not None else d ** -0.5)
    if is_causal:
        i = torch.arange(L).unsqueeze(1)
        j = torch.arange(S).unsqueeze(0)
        logits = logits.masked_fill(j > i, -math.inf)
    w = F.softmax(logits, dim=-1)
    out = torch.einsum("...gnls,...gse->...gnle", w, v)                     # (..., H_kv, n_rep, L, dv)
    return out.reshape(*lead, H, L, v.shape[-1])


class GroupedQueryAttention(nn.Module):
    def __init__(self, n_embd, n_head, n_kv_head):
        super().__init__()
        hd = n_embd // n_head
        self.h, self.h_kv, self.hd = n_head, n_kv_head, hd
        self.q_proj = nn.Linear(n_embd, n_head * hd, bias=False)
        self.k_proj = nn.Linear(n_embd, n_kv_head * hd, bias=False)
        self.v_proj = nn.Linear(n_embd, n_kv_head * hd, bias=False)
        self.o_proj = nn.Linear(n_head * hd, n_embd, bias=False)

    def forward(self, x, is_causal=True):
        split = lambda t, n: t.unflatten(-1, (n, self.hd)).transpose(-3, -2)   # noqa: E731
        q = split(self.q_proj(x), self.h)
        k = split(self.k_proj(x), self.h_kv)
        v = split(self.v_proj(x), self.h_kv)
        y = grouped_query_attention(q, k, v, is_causal)
        return self.o_proj(y.transpose(-3, -2).flatten(-2))
