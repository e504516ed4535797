"""Visible checks: the slopes for 8 and 6 heads, the bias of a 3-position sequence by hand, and
attention against torch's with the bias as a float mask."""
import math

import torch
import torch.nn.functional as F

from mlkata.checks import check, expect_close, probe

NEG_INF = float("-inf")


def oracle_slopes(n):
    p = 2 ** math.floor(math.log2(n))
    slopes = [2 ** (-8 * h / p) for h in range(1, p + 1)]
    slopes += [2 ** (-8 * h / (2 * p)) for h in range(1, 2 * (n - p), 2)]
    return torch.tensor(slopes, dtype=torch.float32)


def oracle_bias(slopes, L, S):
    p = torch.arange(S - L, S).unsqueeze(1)
    j = torch.arange(S).unsqueeze(0)
    return (-slopes.view(-1, 1, 1) * (p - j)).masked_fill(j > p, NEG_INF)


def oracle_attention(q, k, v):
    bias = oracle_bias(oracle_slopes(q.size(1)).to(q.dtype), q.size(2), k.size(2))
    return F.scaled_dot_product_attention(q, k, v, attn_mask=bias)


@probe
def attend(sub, q, k, v, grad_out=None):
    if grad_out is not None:
        q, k, v = (t.detach().clone().requires_grad_(True) for t in (q, k, v))
    out = sub.alibi_attention(q, k, v)
    report = {"out": out}
    if grad_out is not None:
        (out * grad_out).sum().backward()
        report["grads"] = [q.grad, k.grad, v.grad]
    return report


@check("alibi_slopes(8) = 1/2, 1/4, ..., 1/256; alibi_slopes(6) interleaves two slopes of the 8-head sequence")
def slopes_by_hand(run):
    expect_close(run("alibi_slopes", 8), torch.tensor([2.0 ** -h for h in range(1, 9)]),
                 "for a power of two n: m_h = 2^(-8h/n)", rtol=1e-6, atol=0, what="alibi_slopes(8)")
    expect_close(run("alibi_slopes", 6), torch.tensor([2 ** -2, 2 ** -4, 2 ** -6, 2 ** -8, 2 ** -1, 2 ** -3]),
                 "6 heads: the 4-head slopes, then the 8-head slopes at h = 1, 3", rtol=1e-6, atol=0,
                 what="alibi_slopes(6)")


@check("alibi_bias for one head of slope 0.5 over 3 positions: 0 on the diagonal, -0.5 per step back, -inf ahead")
def bias_by_hand(run):
    got = run("alibi_bias", torch.tensor([0.5]), 3, 3)
    want = torch.tensor([[[0.0, NEG_INF, NEG_INF], [-0.5, 0.0, NEG_INF], [-1.0, -0.5, 0.0]]])
    expect_close(got, want, "bias = -m (p - j) for j <= p, -inf for later keys", rtol=0, atol=1e-7,
                 what="alibi_bias([0.5], L=3, S=3)")


@check("alibi_attention agrees with torch's attention using the ALiBi bias as a float mask")
def attention_matches(run):
    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(2, 4, 5, 3, generator=g) for _ in range(3))
    got = run(attend, q, k, v)
    expect_close(got["out"], oracle_attention(q, k, v), "softmax(q k^T / sqrt(d) + bias) v with the bias of "
                 "alibi_slopes(H)", what="output [2, 4, 5, 3]")
