"""Hidden graders of transformer/alibi: the slopes for 1 to 16 heads (powers of two and not)
against the paper's rule (tests/test_twins_* compares with transformers' BLOOM); the bias for
L <= S; attention against torch's scaled_dot_product_attention with the bias as a float mask,
with L < S, float64 gradients and huge logits."""
import torch

from mlkata.checks import check, expect, expect_close, expect_tensor, probe, visible_module

V = visible_module("transformer/alibi")


@probe
def slopes_each(sub, ns):
    return [sub.alibi_slopes(n) for n in ns]


@probe
def bias_each(sub, cases):
    return [sub.alibi_bias(s, L, S) for s, L, S in cases]


@probe
def attend_each(sub, cases):
    return [V.attend.fn(sub, **c) for c in cases]


def qkv(seed, B, H, L, S, d=4, dv=3, dtype=torch.float32, scale=1.0):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(B, H, L, d, generator=g, dtype=dtype) * scale, torch.randn(B, H, S, d, generator=g, dtype=dtype),
            torch.randn(B, H, S, dv, generator=g, dtype=dtype))


@check("alibi_slopes for 1 to 16 heads: the geometric rule, and the interleaved extra slopes when n is not a "
       "power of two", points=2)
def slopes_all(run):
    ns = list(range(1, 17))
    gots = run(slopes_each, ns)
    for n, got in zip(ns, gots):
        expect_tensor(got, "alibi_slopes(n) is a float32 tensor [n]", shape=(n,), dtype=torch.float32)
        expect_close(got, V.oracle_slopes(n), "p = largest power of two <= n: 2^(-8h/p) for h = 1..p, then "
                     "2^(-8h/2p) for h = 1, 3, 5, ... until n slopes", rtol=1e-6, atol=0, what=f"alibi_slopes({n})")


@check("alibi_bias for several heads and L <= S: -m_h (p - j) with the queries at the last L positions")
def bias_random(run):
    cases = [(V.oracle_slopes(H), L, S) for H, L, S in [(4, 5, 5), (3, 2, 6), (8, 1, 7), (2, 6, 6)]]
    gots = run(bias_each, cases)
    for (s, L, S), got in zip(cases, gots):
        expect_close(got, V.oracle_bias(s, L, S), "query i is position S - L + i; bias = -m_h (p - j) for j <= p, "
                     "-inf after", rtol=1e-6, atol=1e-7, what=f"alibi_bias (H={len(s)}, L={L}, S={S})")


@check("alibi_attention agrees with torch's attention with the ALiBi mask (L = S and L < S, several head counts)",
       points=2)
def attention_random(run):
    cases = []
    for s, (B, H, L, S) in enumerate([(2, 4, 6, 6), (1, 6, 3, 8), (2, 1, 5, 5), (3, 12, 2, 4)]):
        q, k, v = qkv(s, B, H, L, S, scale=1.5)
        cases.append(dict(q=q, k=k, v=v))
    gots = run(attend_each, cases)
    for c, got in zip(cases, gots):
        expect_close(got["out"], V.oracle_attention(c["q"], c["k"], c["v"]), "scores q k^T / sqrt(d) plus the bias "
                     "of alibi_slopes(H) (queries at the last L positions), softmax over keys, times v",
                     what=f"output (q {list(c['q'].shape)}, S={c['k'].size(2)})")


@check("gradients agree with torch's (float64), and huge logits stay finite")
def gradients_and_stability(run):
    q, k, v = qkv(20, 2, 4, 5, 7, dtype=torch.float64)
    go = torch.randn(2, 4, 5, 3, generator=torch.Generator().manual_seed(21), dtype=torch.float64)
    big = qkv(22, 1, 2, 4, 4, scale=1e4)
    got, huge = run(attend_each, [dict(q=q, k=k, v=v, grad_out=go), dict(q=big[0], k=big[1], v=big[2])])
    leaves = [t.clone().requires_grad_(True) for t in (q, k, v)]
    want = V.oracle_attention(*leaves)
    (want * go).sum().backward()
    expect_close(got["out"], want.detach(), "float64 in, float64 out", rtol=1e-10, atol=1e-12, check_dtype=True,
                 what="output (float64)")
    expect_close(got["grads"], [t.grad for t in leaves], "the bias is a constant: gradients flow as in plain "
                 "attention", rtol=1e-8, atol=1e-10, what="[dq, dk, dv]")
    out = huge["out"]
    expect(isinstance(out, torch.Tensor) and bool(out.isfinite().all()), "subtract the row maximum before exp "
           "(torch.softmax does): q * 1e4 must not overflow", "the output for huge logits is not finite")
