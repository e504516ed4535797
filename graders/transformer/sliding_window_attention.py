"""Hidden graders of transformer/sliding_window_attention: the mask for random L <= S and windows
(including 1 and >= S); the attention against torch's scaled_dot_product_attention with the banded
mask, with gradients and huge logits; the cache against DynamicSlidingWindowLayer's contract
(transcribed here; tests/test_twins_* compares it with transformers itself) token by token and in
chunks longer than the window; decoding with the cache equals full sliding-window attention."""
import torch

from mlkata.checks import Fail, check, expect, expect_close, expect_equal, expect_tensor, probe, visible_module

V = visible_module("transformer/sliding_window_attention")


@probe
def masks_each(sub, cases):
    return [sub.sliding_window_mask(L, S, w) for L, S, w in cases]


@probe
def attend_each(sub, cases):
    return [V.attend.fn(sub, **case) for case in cases]


def qkv(seed, lead, L, S, d=4, dv=3, dtype=torch.float32, scale=1.5):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(*lead, L, d, generator=g, dtype=dtype) * scale,
            torch.randn(*lead, S, d, generator=g, dtype=dtype) * scale,
            torch.randn(*lead, S, dv, generator=g, dtype=dtype))


def oracle_cache(window, chunks):
    """DynamicSlidingWindowLayer's update, written out: (returned pairs, retained pairs, seen)."""
    keys = values = None
    returned, retained, seen = [], [], []
    total = 0
    for k_new, v_new in chunks:
        total += k_new.size(2)
        k = k_new if keys is None else torch.cat([keys, k_new], 2)
        v = v_new if values is None else torch.cat([values, v_new], 2)
        start = max(k.size(2) - (window - 1), 0)
        keys, values = k[:, :, start:], v[:, :, start:]
        returned.append([k, v])
        retained.append([keys, values])
        seen.append(total)
    return returned, retained, seen


def chunks_of(seed, B, H, sizes, d=3):
    g = torch.Generator().manual_seed(seed)
    return [(torch.randn(B, H, s, d, generator=g), torch.randn(B, H, s, d + 1, generator=g)) for s in sizes]


def expect_cache(got, window, chunks, label):
    returned, retained, seen = oracle_cache(window, chunks)
    init = got["initial"]
    expect(init["keys"] is None and init["values"] is None and init["seen"] == 0,
           "a new cache holds keys = values = None and seen = 0",
           f"before the first update: keys {init['keys'] if not hasattr(init['keys'], 'shape') else 'a tensor'}, "
           f"seen {init['seen']!r} ({label})")
    for i, (got_ret, want_ret, state, want_keep, want_seen) in enumerate(
            zip(got["returned"], returned, got["states"], retained, seen)):
        expect_close(got_ret, want_ret, "update returns the retained keys/values followed by the new ones (dim 2)",
                     rtol=0, atol=0, what=f"(k, v) returned by update {i} ({label})")
        expect_close([state["keys"], state["values"]], want_keep, "after an update the cache keeps the last "
                     "window - 1 positions of what it returned (all of them if fewer; none when window = 1)",
                     rtol=0, atol=0, what=f"(keys, values) kept after update {i} ({label})")
        expect_equal(state["seen"], want_seen, "seen counts every position given to update",
                     what=f"seen after update {i} ({label})")


# --------------------------------------------------------------------------------------------
# The mask and the attention
# --------------------------------------------------------------------------------------------

@check("sliding_window_mask agrees with p - window < j <= p for random L <= S and windows 1 .. S + 2")
def mask_random(run):
    cases = [(L, S, w) for L, S, w in [(1, 1, 1), (4, 4, 1), (6, 6, 2), (3, 8, 3), (1, 7, 4), (7, 7, 7),
                                         (5, 9, 11), (2, 2, 5), (8, 8, 3)]]
    gots = run(masks_each, cases)
    for (L, S, w), got in zip(cases, gots):
        expect_tensor(got, f"the mask is a bool tensor [L, S] (L={L}, S={S})", shape=(L, S), dtype=torch.bool)
        V.expect_mask(got, L, S, w)


@check("agrees with torch's scaled_dot_product_attention under the banded mask (0-2 batch dims, L <= S, "
       "several windows)", points=2)
def attention_random(run):
    cases = []
    for seed, (lead, L, S, w) in enumerate([((), 5, 5, 2), ((2,), 6, 6, 3), ((2, 3), 4, 7, 2), ((1,), 1, 6, 3),
                                             ((3,), 7, 7, 10), ((2,), 3, 3, 1)]):
        q, k, v = qkv(seed, lead, L, S)
        cases.append(dict(q=q, k=k, v=v, window=w))
    gots = run(attend_each, cases)
    for c, got in zip(cases, gots):
        L, S, w = c["q"].size(-2), c["k"].size(-2), c["window"]
        want = V.oracle_attention(c["q"], c["k"], c["v"], w)
        expect_tensor(got["out"], "the output is [..., L, dv]", shape=want.shape)
        expect_close(got["out"], want, "softmax(q k^T / sqrt(d)) v over the keys inside the window only "
                     "(p - window < j <= p, queries at the last L positions)",
                     what=f"output (q {list(c['q'].shape)}, S={S}, window={w})")


@check("a window of at least S is plain causal attention; queries are the last L positions when L < S")
def window_extremes(run):
    q, k, v = qkv(20, (2,), 3, 6)
    cases = [dict(q=q, k=k, v=v, window=6), dict(q=q, k=k, v=v, window=100)]
    gots = run(attend_each, cases)
    causal_bottom_right = torch.ones(3, 6, dtype=torch.bool).tril(6 - 3)
    want = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=causal_bottom_right)
    for c, got in zip(cases, gots):
        expect_close(got["out"], want, "with window >= S nothing is cut: query i (position S - L + i) sees keys "
                     "0 .. S - L + i, the bottom-right causal triangle", what=f"output (L=3, S=6, window={c['window']})")


@check("huge logits (q * 1e4) stay finite and agree with torch")
def huge_logits(run):
    q, k, v = qkv(30, (2,), 5, 5)
    [got] = run(attend_each, [dict(q=q * 1e4, k=k, v=v, window=3)])
    out = got["out"]
    expect(isinstance(out, torch.Tensor) and bool(out.isfinite().all()),
           "subtract the row maximum before exp (torch.softmax does): exp(1e4) overflows", "the output is not finite")
    expect_close(out, V.oracle_attention(q * 1e4, k, v, 3), "huge logits make the softmax (nearly) one-hot",
                 what="output (q * 1e4)")


@check("gradients with respect to q, k and v agree with torch's (float64), and float64 stays float64")
def gradients(run):
    q, k, v = qkv(40, (2,), 4, 6, dtype=torch.float64)
    go = torch.randn(2, 4, 3, generator=torch.Generator().manual_seed(41), dtype=torch.float64)
    [got] = run(attend_each, [dict(q=q, k=k, v=v, window=3, grad_out=go)])
    leaves = [t.clone().requires_grad_(True) for t in (q, k, v)]
    want = V.oracle_attention(*leaves, 3)
    (want * go).sum().backward()
    expect_close(got["out"], want.detach(), "float64 in, float64 out", rtol=1e-10, atol=1e-12, check_dtype=True,
                 what="output")
    expect_close(got["grads"], [t.grad for t in leaves], "keys outside every query's window get zero gradient; the "
                 "others get softmax attention's", rtol=1e-8, atol=1e-10, what="[dq, dk, dv]")


# --------------------------------------------------------------------------------------------
# The cache
# --------------------------------------------------------------------------------------------

@check("SlidingWindowCache token by token: returns kept + new, keeps the last window - 1 (windows 1, 2, 4)", points=2)
def cache_token_by_token(run):
    for window, T in [(4, 7), (2, 5), (1, 3)]:
        chunks = chunks_of(window, 2, 3, [1] * T)
        got = run(V.cache_steps, window, chunks)
        expect_cache(got, window, chunks, f"window={window}, one token per update")


@check("SlidingWindowCache with chunks, including a prompt longer than the window")
def cache_chunks(run):
    for window, sizes in [(4, [10, 1, 3, 2]), (3, [2, 2, 1, 5]), (6, [1, 1, 8])]:
        chunks = chunks_of(100 + window, 1, 2, sizes)
        got = run(V.cache_steps, window, chunks)
        expect_cache(got, window, chunks, f"window={window}, chunk sizes {sizes}")


@check("decoding with the cache (any split into chunks) equals sliding-window attention over the whole "
       "sequence", points=2)
def decode_equals_full(run):
    for seed, (window, sizes) in enumerate([(3, [1] * 8), (4, [5, 1, 2, 1]), (2, [3, 3, 1]), (5, [2, 7])], start=200):
        T = sum(sizes)
        g = torch.Generator().manual_seed(seed)
        q, k, v = (torch.randn(2, 2, T, 4, generator=g) for _ in range(3))
        gots = run(V.decode, q, k, v, window, sizes)
        want = V.oracle_attention(q, k, v, window)
        start = 0
        for i, (size, got) in enumerate(zip(sizes, gots)):
            expect_close(got, want[:, :, start:start + size], "the cache returns every key the new queries may "
                         "see (the last window - 1 old positions and the new ones) and the attention aligns the "
                         "queries bottom-right", what=f"output of chunk {i} (window={window}, chunk sizes {sizes})")
            start += size


@check("gradients flow through the cache into earlier chunks' keys and values")
def cache_gradients(run):
    window, sizes = 3, [2, 1, 2]
    g = torch.Generator().manual_seed(300)
    q, k, v = (torch.randn(1, 2, 5, 3, generator=g, dtype=torch.float64) for _ in range(3))
    go = torch.randn(1, 2, 5, 3, generator=g, dtype=torch.float64)
    got = run(decode_grads, q, k, v, window, sizes, go)
    leaves = [t.clone().requires_grad_(True) for t in (q, k, v)]
    (V.oracle_attention(*leaves, window) * go).sum().backward()
    expect_close(got, [t.grad for t in leaves], "the cache keeps the keys and values as they are (no detach, no "
                 "copy through .data), so later queries' gradients reach earlier positions", rtol=1e-8, atol=1e-10,
                 what="[dq, dk, dv] through chunked decoding")


@probe
def decode_grads(sub, q, k, v, window, sizes, grad_out):
    """Chunked decoding as in V.decode, then backward of sum(out * grad_out); reports [dq, dk, dv]."""
    q, k, v = (t.detach().clone().requires_grad_(True) for t in (q, k, v))
    outs = V.decode.fn(sub, q, k, v, window, sizes)
    (torch.cat(outs, dim=2) * grad_out).sum().backward()
    return [q.grad, k.grad, v.grad]
