# CORRECT, written differently: einsum and a hand-written stable softmax (finite fill value, row
# max subtracted, masked exps zeroed); the module loops over heads, slicing each head's rows of
# in_proj_weight, and builds the causal mask from index comparisons.
import torch
import torch.nn as nn


def scaled_dot_product_attention(q, k, v, mask=None, is_causal=False):
    if is_causal and mask is not None:
        raise ValueError("mask and is_causal are mutually exclusive")
    if is_causal:
        i = torch.arange(q.shape[-2]).unsqueeze(-1)
        j = torch.arange(k.shape[-2]).unsqueeze(0)
        mask = j <= i                                                    # (L, S)
    scores = torch.einsum("...ld,...sd->...ls", q, k) * q.shape[-1] ** -0.5
    if mask is not None:
        scores = scores.masked_fill(~mask, torch.finfo(scores.dtype).min)
    e = torch.exp(scores - scores.amax(dim=-1, keepdim=True))
    if mask is not None:
        e = e * mask
    w = e / e.sum(dim=-1, keepdim=True).clamp_min(torch.finfo(e.dtype).tiny)
    return torch.einsum("...ls,...sv->...lv", w, v), w


class MultiHeadAttention(nn.Module):
    def __init__(self, embed_dim, num_heads, bias=True):
        super().__init__()
        self.E, self.H = embed_dim, num_heads
        self.in_proj_weight = nn.Parameter(torch.randn(3 * embed_dim, embed_dim) / embed_dim ** 0.5)
        self.in_proj_bias = nn.Parameter(torch.zeros(3 * embed_dim)) if bias else None
        self.out_proj = nn.Linear(embed_dim, embed_dim, bias=bias)

    def forward(self, query, key, value, key_padding_mask=None, attn_mask=None, need_weights=True):
        E, H = self.E, self.H
        hd = E // H
        B, L, _ = query.shape
        S = key.shape[1]
        blocked = torch.zeros(B, L, S, dtype=torch.bool)
        if key_padding_mask is not None:
            blocked = blocked | key_padding_mask[:, None, :]
        heads, weights = [], []
        for h in range(H):
            rows = [slice(part * E + h * hd, part * E + (h + 1) * hd) for part in range(3)]
            proj = []
            for x, r in zip((query, key, value), rows):
                y = x @ self.in_proj_weight[r].T
                if self.in_proj_bias is not None:
                    y = y + self.in_proj_bias[r]
                proj.append(y)
            b = blocked
            if attn_mask is not None:
                b = b | (attn_mask if attn_mask.dim() == 2 else attn_mask.view(B, H, L, S)[:, h])
            o, w = scaled_dot_product_attention(*proj, mask=~b)
            heads.append(o)
            weights.append(w)
        out = self.out_proj(torch.cat(heads, dim=-1))
        return out, (torch.stack(weights).mean(0) if need_weights else None)
