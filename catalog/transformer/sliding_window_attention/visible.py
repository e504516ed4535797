"""Visible checks: the mask for a small window you can draw, attention that ignores keys outside
the window, and the cache keeping the last window - 1 positions."""
import math

import torch
import torch.nn.functional as F

from mlkata.checks import Fail, check, expect_close, expect_equal, probe


@probe
def attend(sub, q, k, v, window, grad_out=None):
    """Call sliding_window_attention; with ``grad_out``, also report d(sum(out * grad_out))/d(q, k, v)."""
    if grad_out is not None:
        q, k, v = (t.detach().clone().requires_grad_(True) for t in (q, k, v))
    out = sub.sliding_window_attention(q, k, v, window)
    report = {"out": out}
    if grad_out is not None:
        (out * grad_out).sum().backward()
        report["grads"] = [q.grad, k.grad, v.grad]
    return report


def _state(cache):
    return {"keys": getattr(cache, "keys", "missing"), "values": getattr(cache, "values", "missing"),
            "seen": getattr(cache, "seen", "missing")}


@probe
def cache_steps(sub, window, chunks):
    """Feed ``chunks`` (pairs k_new, v_new) to one SlidingWindowCache; report what each update
    returns and the cache's state before the first update and after each one."""
    cache = sub.SlidingWindowCache(window)
    report = {"initial": _state(cache), "returned": [], "states": []}
    for k_new, v_new in chunks:
        out = cache.update(k_new, v_new)
        if not (isinstance(out, (tuple, list)) and len(out) == 2):
            raise TypeError(f"update must return a pair (k, v), not {type(out).__name__}")
        report["returned"].append(list(out))
        report["states"].append(_state(cache))
    return report


@probe
def decode(sub, q, k, v, window, sizes):
    """Decode with the learner's cache and attention: cut q, k, v [B, H, T, .] into chunks of the
    given sizes along T, and for each chunk attend from its queries over what the cache returns."""
    cache = sub.SlidingWindowCache(window)
    outs, start = [], 0
    for size in sizes:
        sl = slice(start, start + size)
        k_all, v_all = cache.update(k[:, :, sl], v[:, :, sl])
        outs.append(sub.sliding_window_attention(q[:, :, sl], k_all, v_all, window))
        start += size
    return outs


def oracle_mask(L, S, window):
    """True where query i (position S - L + i) may see key j: p - window < j <= p."""
    p = torch.arange(S - L, S).unsqueeze(1)
    j = torch.arange(S).unsqueeze(0)
    return (j <= p) & (j > p - window)


def oracle_attention(q, k, v, window):
    return F.scaled_dot_product_attention(q, k, v, attn_mask=oracle_mask(q.size(-2), k.size(-2), window))


def expect_mask(got, L, S, window):
    expect_close(got, oracle_mask(L, S, window), "query i is position p = S - L + i; it sees key j when "
                 "p - window < j <= p (itself and the window - 1 positions before it)", rtol=0, atol=0,
                 what=f"sliding_window_mask(L={L}, S={S}, window={window})")


@check("sliding_window_mask(5, 5, window=3): each position sees itself and the 2 before it")
def mask_by_hand(run):
    got = run("sliding_window_mask", 5, 5, 3)
    expect_mask(got, 5, 5, 3)


@check("sliding_window_mask(2, 5, window=2): the 2 queries are the LAST two positions (3 and 4)")
def mask_bottom_right(run):
    got = run("sliding_window_mask", 2, 5, 2)
    expect_mask(got, 2, 5, 2)


@check("sliding_window_attention ignores keys outside the window: window=1 returns each position's own value")
def window_one(run):
    g = torch.Generator().manual_seed(0)
    q, k = torch.randn(4, 3, generator=g), torch.randn(4, 3, generator=g)
    v = torch.arange(4.0).unsqueeze(1)
    got = run(attend, q, k, v, 1)
    expect_close(got["out"], v, "with window = 1 every query may attend only to itself, so it copies its own value",
                 what="output (window=1)")


@check("SlidingWindowCache(3): update returns the kept past + the new tokens and keeps the last 2 positions")
def cache_token_by_token(run):
    ks = [torch.full((1, 1, 1, 2), float(t)) for t in range(4)]         # position t's key holds t
    got = run(cache_steps, 3, [(kt, kt + 10) for kt in ks])
    returned = [r[0].reshape(-1)[::2].tolist() if isinstance(r[0], torch.Tensor) else r[0] for r in got["returned"]]
    expect_equal(returned, [[0.0], [0.0, 1.0], [0.0, 1.0, 2.0], [1.0, 2.0, 3.0]],
                 "update returns the retained keys followed by the new ones; with window 3 it retains the last 2 "
                 "positions", what="positions of the keys returned by the four updates")
    seen = [s["seen"] for s in got["states"]]
    expect_equal(seen, [1, 2, 3, 4], "seen counts every position given to update", what="seen after each update")
