"""Hidden graders of transformer/relative_position_bias: buckets against T5's rule (tests/test_twins_*
runs transformers' T5Attention itself) for both directions, several bucket counts and distances
far beyond max_distance; the bias with query offsets (a cache), and its gradient into the table;
attention without scaling, causal or not, with gradients."""
import torch

from mlkata.checks import check, expect_close, expect_equal, expect_tensor, probe, visible_module

V = visible_module("transformer/relative_position_bias")


@probe
def buckets_each(sub, cases):
    return [sub.relative_position_bucket(*c) for c in cases]


@probe
def bias_grad(sub, table, L, S, bidirectional, max_distance, query_offset, grad_out):
    table = table.detach().clone().requires_grad_(True)
    bias = sub.compute_bias(table, L, S, bidirectional, max_distance=max_distance, query_offset=query_offset)
    (bias * grad_out).sum().backward()
    return {"bias": bias, "grad": table.grad}


@probe
def attend(sub, q, k, v, bias, causal, grad_out):
    q, k, v, bias = (t.detach().clone().requires_grad_(True) for t in (q, k, v, bias))
    out = sub.t5_attention(q, k, v, bias, causal=causal)
    (out * grad_out).sum().backward()
    return {"out": out, "grads": [q.grad, k.grad, v.grad, bias.grad]}


@check("relative_position_bucket agrees with T5 for both directions, 8 to 64 buckets, distances up to 1000", points=2)
def buckets_random(run):
    rel = torch.arange(-1000, 1001)
    cases = [(rel, bi, nb, md) for bi in (True, False) for nb, md in ((32, 128), (8, 16), (64, 256), (16, 20))]
    gots = run(buckets_each, cases)
    for (r, bi, nb, md), got in zip(cases, gots):
        expect_tensor(got, "buckets keep the shape of the relative positions", shape=r.shape)
        expect_equal(got, V.oracle_bucket(r, bi, nb, md), "bidirectional: keys after the query use the upper half, "
                     "distance |r|; causal: distance max(-r, 0); exact below half the direction's buckets, then "
                     "exact + int(log(n / exact) / log(max_distance / exact) * (B - exact)), capped at B - 1",
                     what=f"buckets of r = -1000..1000 ({'bidirectional' if bi else 'causal'}, num_buckets={nb}, "
                          f"max_distance={md})")


@probe
def defaults(sub, rel, table, L, S):
    """relative_position_bucket(rel) and compute_bias(table, L, S, bidirectional) with their defaults."""
    return [sub.relative_position_bucket(rel), sub.compute_bias(table, L, S, True), sub.compute_bias(table, L, S, False)]


@check("the defaults are T5's: bidirectional, 32 buckets, max_distance 128 (distances up to 300), query offset 0")
def t5_defaults(run):
    rel = torch.arange(-300, 301)
    table = torch.randn(32, 2, generator=torch.Generator().manual_seed(5))
    got = run(defaults, rel, table, 3, 200)
    expect_equal(got[0], V.oracle_bucket(rel), "relative_position_bucket defaults: bidirectional=True, "
                 "num_buckets=32, max_distance=128", what="relative_position_bucket(r) for r = -300..300")
    for bi, bias in zip((True, False), got[1:]):
        expect_close(bias, V.oracle_bias(table, 3, 200, bi), "compute_bias defaults: max_distance=128, "
                     "query_offset=0", rtol=0, atol=0, what=f"compute_bias(table, 3, 200, {bi})")


@check("compute_bias for encoders and decoders, with a query offset, and its gradient into the table", points=2)
def bias_random(run):
    g = torch.Generator().manual_seed(1)
    for bi, L, S, offset in ((True, 5, 7, 0), (False, 4, 4, 0), (False, 1, 9, 8), (True, 3, 40, 30)):
        table = torch.randn(16, 3, generator=g, dtype=torch.float64)
        go = torch.randn(1, 3, L, S, generator=g, dtype=torch.float64)
        got = run(bias_grad, table, L, S, bi, 20, offset, go)
        leaf = table.clone().requires_grad_(True)
        want = V.oracle_bias(leaf, L, S, bi, 20, offset)
        (want * go).sum().backward()
        label = f"{'bidirectional' if bi else 'causal'}, L={L}, S={S}, query_offset={offset}"
        expect_close(got["bias"], want.detach(), "bias[0, h, i, j] = table[bucket(j - (query_offset + i)), h], shape "
                     "[1, H, L, S]", rtol=0, atol=0, what=f"bias ({label})")
        expect_close(got["grad"], leaf.grad, "the table is a learned parameter: each entry's gradient sums the "
                     "gradients of every (i, j) in its bucket", rtol=1e-10, atol=1e-12, what=f"table gradient ({label})")


@check("t5_attention agrees with softmax(q k^T + bias) v (no scaling), causal or not, gradients included", points=2)
def attention_random(run):
    for s, (B, H, L, S, causal) in enumerate([(2, 3, 4, 6, False), (1, 2, 5, 5, True), (2, 4, 3, 3, True)]):
        g = torch.Generator().manual_seed(10 + s)
        q, k, v = (torch.randn(B, H, n, 4, generator=g, dtype=torch.float64) for n in (L, S, S))
        bias = V.oracle_bias(torch.randn(8, H, generator=g, dtype=torch.float64), L, S, not causal, 16)
        go = torch.randn(B, H, L, 4, generator=g, dtype=torch.float64)
        got = run(attend, q, k, v, bias, causal, go)
        leaves = [t.clone().requires_grad_(True) for t in (q, k, v, bias)]
        scores = leaves[0] @ leaves[1].transpose(-2, -1) + leaves[3]
        if causal:
            scores = scores.masked_fill(~torch.ones(L, S, dtype=torch.bool).tril(), float("-inf"))
        want = scores.softmax(-1) @ leaves[2]
        (want * go).sum().backward()
        label = f"B={B}, H={H}, L={L}, S={S}, causal={causal}"
        expect_close(got["out"], want.detach(), "scores = q k^T + bias without 1/sqrt(d); causal masks keys j > i",
                     rtol=1e-10, atol=1e-12, what=f"output ({label})")
        expect_close(got["grads"], [t.grad for t in leaves], "the bias is added in the graph, so it gets gradients "
                     "like q, k and v", rtol=1e-8, atol=1e-10, what=f"[dq, dk, dv, dbias] ({label})")
