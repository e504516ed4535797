# CORRECT, written differently: slopes from log2 exponents with torch.exp2 (start = 2^(-8/n), slope_h = start^h), the bias from a relative-distance matrix built with tril, attention through einsum.
import math

import torch


def alibi_slopes(n_heads):
    def powers(n, count, step):
        start = 2.0 ** (-8.0 / n)
        return [start ** h for h in range(1, 1 + count * step, step)]
    p = 1 << (n_heads.bit_length() - 1)
    slopes = powers(p, p, 1)
    if p < n_heads:
        slopes += powers(2 * p, n_heads - p, 2)
    return torch.tensor(slopes, dtype=torch.float64).float()


def alibi_bias(slopes, L, S):
    rel = torch.arange(S).view(1, S) - torch.arange(S - L, S).view(L, 1)      # j - p: <= 0 in the past
    allowed = torch.ones(L, S, dtype=torch.bool).tril(S - L)
    bias = torch.einsum("h,ls->hls", slopes, rel.to(slopes.dtype))
    return torch.where(allowed, bias, torch.full_like(bias, -math.inf))


def alibi_attention(q, k, v):
    bias = alibi_bias(alibi_slopes(q.shape[1]).to(q.dtype), q.shape[2], k.shape[2])
    logits = torch.einsum("bhld,bhsd->bhls", q, k) / q.shape[-1] ** 0.5 + bias
    return torch.einsum("bhls,bhse->bhle", logits.softmax(-1), v)
