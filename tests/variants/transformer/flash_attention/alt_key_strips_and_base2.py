# CORRECT, written differently: loops over key tiles only, with all queries at once (a [..., L, block_k] strip -- FlashAttention-2's outer loop swapped), works in base 2 with exp2/log2 as the kernels do, and merges with an explicit maximum instead of logaddexp.
import math

import torch

LOG2E = 1.4426950408889634


def online_logsumexp(x, block_size):
    m = x.new_full(x.shape[:-1], -math.inf)
    s = x.new_zeros(x.shape[:-1])
    for block in x.split(block_size, dim=-1):
        m_new = torch.max(m, block.max(dim=-1).values)
        ref = torch.nan_to_num(m_new, neginf=0.0)
        s = s * torch.exp2((m - ref) * LOG2E) + torch.exp2((block - ref[..., None]) * LOG2E).sum(-1)
        m = m_new
    return m + torch.log2(s) / LOG2E


def flash_attention(q, k, v, block_q, block_k, is_causal=False, scale=None):
    L, S, d = q.shape[-2], k.shape[-2], q.shape[-1]
    c = (scale if scale is not None else d ** -0.5) * LOG2E          # logits in base 2
    qs = q * c
    m = q.new_full(q.shape[:-1], -math.inf)
    l = q.new_zeros(q.shape[:-1])
    acc = q.new_zeros((*q.shape[:-1], v.shape[-1]))
    rows = torch.arange(L).unsqueeze(1)
    k_stop = min(S, L) if is_causal else S          # no query sees a key at or beyond position L
    for start in range(0, k_stop, block_k):
        kt, vt = k[..., start:start + block_k, :], v[..., start:start + block_k, :]
        s2 = torch.einsum("...ld,...sd->...ls", qs, kt)                  # (..., L, bk)
        if is_causal:
            cols = torch.arange(start, start + kt.shape[-2]).unsqueeze(0)
            s2 = torch.where(cols <= rows, s2, -math.inf)
        m_new = torch.max(m, s2.max(dim=-1).values)
        ref = torch.nan_to_num(m_new, neginf=0.0)                       # rows that saw nothing yet
        p = torch.exp2(s2 - ref[..., None])
        alpha = torch.exp2(m - ref)
        l = alpha * l + p.sum(-1)
        acc = alpha[..., None] * acc + torch.einsum("...ls,...se->...le", p, vt)
        m = m_new
    return acc / l[..., None], (m + torch.log2(l)) / LOG2E


def merge_attention(out_a, lse_a, out_b, lse_b):
    top = torch.max(lse_a, lse_b)
    ref = torch.nan_to_num(top, neginf=0.0)
    wa, wb = torch.exp(lse_a - ref), torch.exp(lse_b - ref)
    total = wa + wb
    lse = ref + torch.log(total)
    safe = torch.where(total > 0, total, torch.ones_like(total))
    return (wa[..., None] * out_a + wb[..., None] * out_b) / safe[..., None], lse
