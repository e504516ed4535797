# CORRECT, written differently: the bucketing written per element in Python then turned into a tensor (float32 log through torch to match T5's rounding), the bias through F.embedding, attention through einsum.
import math

import torch
import torch.nn.functional as F


def _bucket(r, bidirectional, num_buckets, max_distance):
    base = 0
    if bidirectional:
        num_buckets //= 2
        base = num_buckets if r > 0 else 0
        n = abs(r)
    else:
        n = max(-r, 0)
    exact = num_buckets // 2
    if n < exact:
        return base + n
    ratio = torch.log(torch.tensor(n / exact, dtype=torch.float32)) / math.log(max_distance / exact)
    return base + min(exact + int(ratio * (num_buckets - exact)), num_buckets - 1)


def relative_position_bucket(relative_position, bidirectional=True, num_buckets=32, max_distance=128):
    flat = [_bucket(int(r), bidirectional, num_buckets, max_distance) for r in relative_position.reshape(-1)]
    return torch.tensor(flat, dtype=torch.long).reshape(relative_position.shape)


def compute_bias(table, L, S, bidirectional, max_distance=128, query_offset=0):
    rel = torch.arange(S).view(1, S) - torch.arange(query_offset, query_offset + L).view(L, 1)
    idx = relative_position_bucket(rel, bidirectional, table.shape[0], max_distance)
    return F.embedding(idx, table).movedim(-1, 0)[None]


def t5_attention(q, k, v, bias, causal=False):
    logits = torch.einsum("bhld,bhsd->bhls", q, k) + bias
    if causal:
        L, S = logits.shape[-2:]
        logits = logits.masked_fill(torch.arange(S)[None] > torch.arange(L)[:, None], -math.inf)
    return torch.einsum("bhls,bhse->bhle", logits.softmax(-1), v)
