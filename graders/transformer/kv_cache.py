"""Hidden graders of transformer/kv_cache: any split of a sequence into calls (token by token,
prompt + chunks) equals full causal attention computed with torch's scaled_dot_product_attention;
the cache is passed in and out (one module serves interleaved sequences, a cache can be branched
and is never modified); an arbitrary or empty cache; gradients through the cache; float64; large
inputs."""
import torch

from mlkata.checks import Fail, check, expect, expect_close, expect_tensor, visible_module

V = visible_module("transformer/kv_cache")


def split(x, sizes):
    """x [B, T, E] cut along T into chunks of the given sizes."""
    assert sum(sizes) == x.shape[1]
    return list(torch.split(x, sizes, dim=1))


def expect_decoding(got, params, x, H, sizes, rule, label):
    V.expect_params(got, params)
    want_y, (want_k, want_v) = V.oracle(params, x, H)
    ys = got["outs"]
    for i, (y, want) in enumerate(zip(ys, split(want_y, sizes))):
        expect_close(y, want, rule, what=f"output of call {i} (chunk sizes {sizes}; {label})")
    end = 0
    for i, (size, cache) in enumerate(zip(sizes, got["caches"])):
        end += size
        expect_close(list(cache), [want_k[:, :, :end], want_v[:, :, :end]],
                     "the returned cache is (k, v), each [B, H, T_past + T_new, hd]: the given cache with the "
                     "new keys and values appended along dim 2", what=f"cache after call {i} ({label})")


@check("token-by-token decoding equals full causal attention (random B, E, H, lengths)", points=2)
def agrees_token_by_token(run):
    for seed in range(100, 105):
        g = torch.Generator().manual_seed(seed)
        H = int(torch.randint(1, 5, (1,), generator=g))
        E = H * int(torch.randint(1, 5, (1,), generator=g))
        B, T = int(torch.randint(1, 4, (1,), generator=g)), int(torch.randint(1, 9, (1,), generator=g))
        params, x = V.random_params(E, seed), V.sequence(seed, B, T, E) * 1.5
        sizes = [1] * T
        got = run(V.decode, E, H, params, split(x, sizes))
        expect_decoding(got, params, x, H, sizes, "the token at position t attends to positions 0..t: every cached "
                        "key and itself", f"B={B}, T={T}, n_embd={E}, n_head={H}")


@check("a prompt then chunks of several tokens equals full causal attention (the mask inside a chunk)", points=2)
def agrees_chunks(run):
    for seed, (E, H, sizes) in enumerate([(8, 2, [3, 2, 1, 4]), (12, 3, [1, 3, 3]), (6, 1, [4, 4]),
                                          (8, 4, [2, 1, 1, 5])], start=200):
        params, x = V.random_params(E, seed), V.sequence(seed, 2, sum(sizes), E)
        got = run(V.decode, E, H, params, split(x, sizes))
        expect_decoding(got, params, x, H, sizes,
                        "new query i sits at position T_past + i: it sees every cached key and the new keys up to "
                        "itself -- the causal triangle is aligned bottom-right ([T_new, T_past + T_new]), so "
                        "is_causal=True / tril() without an offset is wrong once the cache is not empty",
                        f"n_embd={E}, n_head={H}")


@check("one module serves interleaved sequences: the state is the cache passed in, nothing kept inside")
def interleaved(run):
    E, H = 8, 2
    params = V.random_params(E, 300)
    a, b = V.sequence(300, 1, 4, E), V.sequence(301, 2, 3, E)
    program = [("a", a[:, :2]), ("b", b[:, :1]), ("a", a[:, 2:3]), ("b", b[:, 1:3]), ("a", a[:, 3:])]
    got = run(V.interleave, E, H, params, program)
    V.expect_params(got, params)
    want_a, _ = V.oracle(params, a, H)
    want_b, _ = V.oracle(params, b, H)
    want = [want_a[:, :2], want_b[:, :1], want_a[:, 2:3], want_b[:, 1:3], want_a[:, 3:]]
    rule = ("the module keeps no state between calls: everything it needs about earlier tokens comes from the "
            "cache argument (two sequences decoded in turns must not see each other)")
    for i, ((name, _), y, w) in enumerate(zip(program, got["outs"], want)):
        expect_close(y, w, rule, what=f"output of call {i} (sequence {name!r})")


@check("uses the cache it is given as it is (any keys and values), copies it into the new cache, never modifies it")
def arbitrary_cache(run):
    E, H, B, P = 8, 2, 2, 3
    g = torch.Generator().manual_seed(400)
    params = V.random_params(E, 400)
    start = (torch.randn(B, H, P, E // H, generator=g) * 2, torch.randn(B, H, P, E // H, generator=g))
    x = V.sequence(401, B, 3, E)
    got = run(V.decode, E, H, params, [x[:, :2], x[:, 2:]], start=start)
    V.expect_params(got, params)
    want1, cache1 = V.oracle(params, x[:, :2], H, start)
    want2, cache2 = V.oracle(params, x[:, 2:], H, cache1)
    rule = "attend over the given cache's keys and values followed by the new ones (the cache is all the past there is)"
    expect_close(got["outs"], [want1, want2], rule, what="outputs of the two calls after a given cache")
    k = expect_tensor(got["caches"][0][0], "the returned k is a tensor [B, H, T_past + T_new, hd]",
                      shape=(B, H, P + 2, E // H))
    expect_close(k[:, :, :P], start[0], "the cached entries are copied into the new cache as they are, not "
                 "recomputed", rtol=0, atol=0, what="first T_past entries of the returned k")
    expect_close(list(got["start_after"]), list(start), "the given cache is not modified (it may be reused, "
                 "e.g. to branch in beam search): build new tensors with torch.cat", rtol=0, atol=0,
                 what="the given cache (k, v) after the calls")


@check("branching: two different continuations of the same cache each get their correct output")
def branching(run):
    E, H = 8, 2
    params = V.random_params(E, 500)
    prefix, c1, c2 = V.sequence(500, 1, 3, E), V.sequence(501, 1, 1, E), V.sequence(502, 1, 2, E)
    got_prefix = run(V.decode, E, H, params, [prefix])
    V.expect_params(got_prefix, params)
    cache = got_prefix["caches"][0]
    if not all(isinstance(t, torch.Tensor) for t in cache):
        raise Fail("the cache is a pair of tensors (k, v)", f"it came back as {[type(t).__name__ for t in cache]}")
    gots = [run(V.decode, E, H, params, [c], start=tuple(cache)) for c in (c1, c2)]
    for name, c, got in (("continuation 1", c1, gots[0]), ("continuation 2", c2, gots[1])):
        want, _ = V.oracle(params, torch.cat([prefix, c], 1), H)
        expect_close(got["outs"][0], want[:, 3:], "a cache handed back in later gives the same result as decoding "
                     "the prefix and the continuation together", what=f"output of {name}")


@check("an empty cache ([B, H, 0, hd]) behaves like None")
def empty_cache(run):
    E, H, B = 8, 2, 2
    params, x = V.random_params(E, 600), V.sequence(600, B, 3, E)
    empty = (torch.zeros(B, H, 0, E // H), torch.zeros(B, H, 0, E // H))
    got = run(V.decode, E, H, params, [x[:, :2], x[:, 2:]], start=empty)
    expect_decoding(got, params, x, H, [2, 1], "an empty cache means no earlier tokens", "starting from an empty cache")


@check("gradients through chunked decoding (into earlier calls via the cache) equal full attention's", points=2)
def gradients(run):
    E, H, B, sizes = 8, 2, 2, [3, 1, 2]
    params = {n: t.double() for n, t in V.random_params(E, 700).items()}
    x = V.sequence(700, B, sum(sizes), E).double()
    g = torch.Generator().manual_seed(701)
    grad_outs = [torch.randn(B, s, E, generator=g, dtype=torch.float64) for s in sizes]
    got = run(V.decode, E, H, params, split(x, sizes), dtype=torch.float64, grad_outs=grad_outs)
    V.expect_params(got, params)
    leaves = {n: t.clone().requires_grad_(True) for n, t in params.items()}
    xl = x.clone().requires_grad_(True)
    y, _ = V.oracle(leaves, xl, H)
    (y * torch.cat(grad_outs, 1)).sum().backward()
    rule = ("the outputs are differentiable, and gradients reach earlier calls through the cache (do not detach "
            "the cached keys and values)")
    expect_close(got["grads"], {n: t.grad for n, t in leaves.items()}, rule, rtol=1e-7, atol=1e-9,
                 what="parameter gradients")
    expect_close(got["chunk_grads"], split(xl.grad, sizes), rule, rtol=1e-7, atol=1e-9, what="gradients of each chunk")


@check("keeps float64: outputs and cache in float64, agreeing with the float64 oracle")
def float64(run):
    E, H, sizes = 8, 2, [2, 1, 1]
    params = {n: t.double() for n, t in V.random_params(E, 800).items()}
    x = V.sequence(800, 2, 4, E).double()
    got = run(V.decode, E, H, params, split(x, sizes), dtype=torch.float64)
    V.expect_params(got, params)
    want_y, (want_k, want_v) = V.oracle(params, x, H)
    rule = "a float64 module on float64 input computes and returns float64 (no float32 constants or buffers)"
    expect_close(got["outs"], split(want_y, sizes), rule, rtol=1e-10, atol=1e-12, check_dtype=True, what="outputs")
    expect_close(list(got["caches"][-1]), [want_k, want_v], rule, rtol=1e-10, atol=1e-12, check_dtype=True,
                 what="final cache (k, v)")


@check("large inputs (x * 100) give finite outputs that agree with full attention")
def large_inputs(run):
    E, H, sizes = 8, 2, [3, 1, 1, 2]
    params, x = V.random_params(E, 900), V.sequence(900, 2, 7, E) * 100
    got = run(V.decode, E, H, params, split(x, sizes))
    V.expect_params(got, params)
    for i, y in enumerate(got["outs"]):
        expect(isinstance(y, torch.Tensor) and bool(y.isfinite().all()),
               "huge logits must not overflow: subtract the row maximum before exp (torch.softmax does)",
               f"output of call {i} has non-finite entries")
    want_y, _ = V.oracle(params, x, H)
    expect_close(got["outs"], split(want_y, sizes), "huge logits make the softmax (nearly) one-hot, not NaN",
                 rtol=1e-3, atol=1e-3, what="outputs")
