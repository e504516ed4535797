"""Visible checks: buckets you can count by hand, the bias of a small table, and attention
without the sqrt(d) scaling."""
import math

import torch

from mlkata.checks import check, expect_close, expect_equal, probe


def oracle_bucket(rel, bidirectional=True, num_buckets=32, max_distance=128):
    """transformers' T5Attention._relative_position_bucket."""
    out = torch.zeros_like(rel)
    if bidirectional:
        num_buckets //= 2
        out += (rel > 0).long() * num_buckets
        rel = rel.abs()
    else:
        rel = -torch.min(rel, torch.zeros_like(rel))
    exact = num_buckets // 2
    large = exact + (torch.log(rel.float() / exact) / math.log(max_distance / exact) * (num_buckets - exact)).long()
    large = torch.min(large, torch.full_like(large, num_buckets - 1))
    return out + torch.where(rel < exact, rel, large)


def oracle_bias(table, L, S, bidirectional, max_distance=128, query_offset=0):
    rel = torch.arange(S)[None, :] - (torch.arange(L)[:, None] + query_offset)
    return table[oracle_bucket(rel, bidirectional, table.size(0), max_distance)].permute(2, 0, 1).unsqueeze(0)


@check("relative_position_bucket with 8 buckets, max_distance 16: exact near, logarithmic far, direction offset")
def buckets_by_hand(run):
    rel = torch.tensor([-20, -9, -5, -3, -1, 0, 1, 2, 3, 9])
    got = run("relative_position_bucket", rel, True, 8, 16)
    # 4 buckets per direction, 2 exact: |r| = 0, 1 -> 0, 1; then 2 + int(log(n / 2) / log(8) * 2): n = 2..5 -> 2,
    # n = 6..15 -> 3, and beyond the cap keeps 3
    expect_equal(got, torch.tensor([3, 3, 2, 2, 1, 0, 5, 6, 6, 7]), "4 buckets per direction: distances 0 and 1 "
                 "exact, then 2 + int(log(n / 2) / log(16 / 2) * 2) capped at 3; keys after the query add 4",
                 what="relative_position_bucket(r, bidirectional, num_buckets=8, max_distance=16)")
    got = run("relative_position_bucket", rel, False, 8, 16)
    expect_equal(got, oracle_bucket(rel, False, 8, 16), "causal: n = max(-r, 0), 8 buckets for the past, every "
                 "key after the query in bucket 0", what="relative_position_bucket(r, causal, 8, 16)")


@check("compute_bias looks each (query, key) pair's bucket up in the table: [1, H, L, S]")
def bias_small(run):
    table = torch.arange(16.0).view(8, 2)                  # bucket b, head h -> 2b + h
    got = run("compute_bias", table, 3, 4, True, 16)
    expect_close(got, oracle_bias(table, 3, 4, True, 16), "bias[0, h, i, j] = table[bucket(j - i), h]",
                 what="compute_bias(table [8, 2], L=3, S=4, bidirectional)")


@check("t5_attention adds the bias to the RAW q k^T (no 1/sqrt(d)) before the softmax")
def attention_unscaled(run):
    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(1, 2, 3, 4, generator=g) for _ in range(3))
    bias = torch.randn(1, 2, 3, 3, generator=g)
    got = run("t5_attention", q, k, v, bias)
    expect_close(got, torch.softmax(q @ k.transpose(-2, -1) + bias, -1) @ v, "T5 does not scale the logits by "
                 "1/sqrt(d): softmax(q k^T + bias) v", what="t5_attention output")
