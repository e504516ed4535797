"""Visible checks: the module's parameters; a prompt in one call; decoding token by token equals
full causal attention over the whole sequence; what the cache holds."""
import math

import torch
import torch.nn.functional as F

from mlkata.checks import Fail, check, expect_close, expect_equal, probe


def _pair(result):
    if not (isinstance(result, (tuple, list)) and len(result) == 2 and isinstance(result[1], (tuple, list))
            and len(result[1]) == 2):
        raise TypeError(f"forward must return (y, (k, v)), not {type(result).__name__}")
    return result[0], tuple(result[1])


def _build(sub, n_embd, n_head, params, dtype):
    torch.manual_seed(0)
    module = sub.CachedCausalSelfAttention(n_embd, n_head)
    named = dict(module.named_parameters())
    shapes = {n: tuple(p.shape) for n, p in named.items()}
    if set(named) != set(params) or any(tuple(named[n].shape) != tuple(t.shape) for n, t in params.items()):
        return module, shapes, False
    if dtype is not None:
        module = module.to(dtype)
        named = dict(module.named_parameters())
    with torch.no_grad():
        for n, t in params.items():
            named[n].copy_(t)
    return module, shapes, True


@probe
def decode(sub, n_embd, n_head, params, chunks, start=None, dtype=None, grad_outs=None):
    """Feed ``chunks`` (each [B, T_i, E]) in order through one module, threading the cache from
    ``start``; report every output and cache, and what ``start`` holds afterwards.  With
    ``grad_outs``, backpropagate loss = sum_i sum(y_i * grad_outs[i]) and report the gradients of
    the parameters and of every chunk."""
    module, shapes, ok = _build(sub, n_embd, n_head, params, dtype)
    report = {"shapes": shapes}
    if not ok:
        return report                        # the check reports the parameter mismatch
    if grad_outs is not None:
        chunks = [c.clone().requires_grad_(True) for c in chunks]
    cache = None if start is None else tuple(t.clone() for t in start)
    given = cache
    outs, caches = [], []
    for x in chunks:
        y, cache = _pair(module(x, cache))
        outs.append(y)
        caches.append(cache)
    report.update(outs=outs, caches=caches, start_after=given)
    if grad_outs is not None:
        sum((y * g).sum() for y, g in zip(outs, grad_outs)).backward()
        report["grads"] = {n: p.grad for n, p in module.named_parameters()}
        report["chunk_grads"] = [c.grad for c in chunks]
    return report


@probe
def interleave(sub, n_embd, n_head, params, program):
    """Run ``program``, a list of (sequence name, chunk) pairs, through ONE module, keeping one
    cache per sequence name; report the outputs in program order and each sequence's final cache."""
    module, shapes, ok = _build(sub, n_embd, n_head, params, None)
    if not ok:
        return {"shapes": shapes}
    caches, outs = {}, []
    for name, x in program:
        y, caches[name] = _pair(module(x, caches.get(name)))
        outs.append(y)
    return {"shapes": shapes, "outs": outs, "caches": caches}


def random_params(n_embd, seed=0, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    E = n_embd
    return {"c_attn.weight": (torch.randn(3 * E, E, generator=g) / math.sqrt(E)).to(dtype),
            "c_attn.bias": (torch.randn(3 * E, generator=g) * 0.3).to(dtype),
            "c_proj.weight": (torch.randn(E, E, generator=g) / math.sqrt(E)).to(dtype),
            "c_proj.bias": (torch.randn(E, generator=g) * 0.3).to(dtype)}


def project(params, x, n_head):
    """The per-head queries, keys and values of x [B, T, E]: each [B, H, T, hd]."""
    B, T, E = x.shape
    qkv = F.linear(x, params["c_attn.weight"], params["c_attn.bias"])
    return [t.reshape(B, T, n_head, E // n_head).transpose(1, 2) for t in qkv.split(E, dim=-1)]


def oracle(params, x, n_head, cache=None):
    """Attention of the tokens x (after the cached ones) with torch's scaled_dot_product_attention:
    returns (y [B, T, E], (k, v) [B, H, T_past + T, hd])."""
    B, T, E = x.shape
    q, k, v = project(params, x, n_head)
    if cache is not None:
        k, v = torch.cat([cache[0], k], 2), torch.cat([cache[1], v], 2)
    S = k.shape[2]
    allowed = torch.ones(T, S, dtype=torch.bool).tril(S - T)       # query i is position S - T + i
    y = F.scaled_dot_product_attention(q, k, v, attn_mask=allowed)
    y = y.transpose(1, 2).reshape(B, T, E)
    return F.linear(y, params["c_proj.weight"], params["c_proj.bias"]), (k, v)


def expect_params(got, params):
    want = {n: tuple(t.shape) for n, t in params.items()}
    if got["shapes"] != want:
        raise Fail("parameters named and shaped as nanoGPT's CausalSelfAttention: c_attn = nn.Linear(E, 3E), "
                   "c_proj = nn.Linear(E, E), both with bias, and nothing else",
                   f"expected named_parameters {want},\n  your module has {got['shapes']}")


def sequence(seed, B, T, E):
    return torch.randn(B, T, E, generator=torch.Generator().manual_seed(seed))


@check("has nanoGPT's parameters: c_attn [3E, E] + bias, c_proj [E, E] + bias, and computes with them")
def parameters(run):
    params, x = random_params(8), sequence(0, 1, 2, 8)
    got = run(decode, 8, 2, params, [x])
    expect_params(got, params)
    expect_close(got["outs"][0], oracle(params, x, 2)[0], "y = c_proj(causal attention of c_attn's q, k, v)",
                 what="y for a 2-token prompt")


@check("a prompt in one call (cache=None) gives causal self-attention and a cache of shape [B, H, T, hd]")
def prompt(run):
    params, x = random_params(8, 1), sequence(1, 2, 5, 8)
    got = run(decode, 8, 2, params, [x])
    expect_params(got, params)
    want_y, (want_k, want_v) = oracle(params, x, 2)
    expect_close(got["outs"][0], want_y, "each position attends to itself and the positions before it "
                 "(causal), softmax(q k^T / sqrt(hd)) per head, then c_proj", what="y")
    expect_close(list(got["caches"][0]), [want_k, want_v], "the cache is (k, v), each [B, H, T, hd]",
                 what="returned cache (k, v)")


@check("decoding token by token gives the same outputs as one call on the whole sequence")
def token_by_token(run):
    params, x = random_params(8, 2), sequence(2, 2, 5, 8)
    got = run(decode, 8, 2, params, [x[:, t:t + 1] for t in range(5)])
    expect_params(got, params)
    want_y, _ = oracle(params, x, 2)
    expect_close(got["outs"], [want_y[:, t:t + 1] for t in range(5)], "a new token at position t attends to the "
                 "cached positions 0..t-1 and to itself, exactly as in full causal attention", what="step outputs")
    lengths = [tuple(c[0].shape) if isinstance(c[0], torch.Tensor) else None for c in got["caches"]]
    expect_equal(lengths, [(2, 2, t + 1, 4) for t in range(5)], "the cache grows by the new tokens at "
                 "each call: [B, H, T_past + T_new, hd]", what="shapes of the returned k after each step")


@check("the cache holds each head's keys and values: k[b, h, t] = head h's slice of c_attn's key of token t")
def cache_contents(run):
    params, x = random_params(12, 3), sequence(3, 1, 4, 12)
    got = run(decode, 12, 3, params, [x[:, :3], x[:, 3:]])
    expect_params(got, params)
    _, want_k, want_v = project(params, x, 3)
    expect_close(list(got["caches"][1]), [want_k, want_v],
                 "cache = (k, v): c_attn's output splits into q, k, v (in that order), each viewed as "
                 "[B, T, H, hd] and transposed to [B, H, T, hd]; new entries appended along dim 2",
                 what="cache (k, v) after a call with 3 tokens and a call with 1")
