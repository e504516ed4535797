"""Visible checks: the online log-sum-exp on a vector you can follow by hand, tiled attention
against torch on a small case, merging two halves of the keys, and a causal case with tiles."""
import math

import torch
import torch.nn.functional as F

from mlkata.checks import check, expect_close, probe


@probe
def flash(sub, q, k, v, block_q, block_k, is_causal=None, scale=None, grad_out=None):
    """Call flash_attention, passing is_causal and scale only when given (their defaults are part of
    the contract); with ``grad_out`` (a pair for out and lse), also report the gradients of
    sum(out * g_out) + sum(lse * g_lse) with respect to q, k and v."""
    if grad_out is not None:
        q, k, v = (t.detach().clone().requires_grad_(True) for t in (q, k, v))
    options = {n: a for n, a in (("is_causal", is_causal), ("scale", scale)) if a is not None}
    result = sub.flash_attention(q, k, v, block_q=block_q, block_k=block_k, **options)
    if not (isinstance(result, (tuple, list)) and len(result) == 2):
        raise TypeError(f"flash_attention must return (out, lse), not {type(result).__name__}")
    out, lse = result
    report = {"out": out, "lse": lse}
    if grad_out is not None:
        ((out * grad_out[0]).sum() + (lse * grad_out[1]).sum()).backward()
        report["grads"] = [q.grad, k.grad, v.grad]
    return report


def oracle(q, k, v, is_causal=False, scale=None):
    """(out, lse) from torch: scaled_dot_product_attention and logsumexp of the masked logits."""
    out = F.scaled_dot_product_attention(q, k, v, is_causal=is_causal, scale=scale)
    scale = 1 / math.sqrt(q.size(-1)) if scale is None else scale
    logits = (q @ k.transpose(-2, -1)) * scale
    if is_causal:
        allowed = torch.ones(q.size(-2), k.size(-2), dtype=torch.bool).tril()
        logits = logits.masked_fill(~allowed, float("-inf"))
    return out, torch.logsumexp(logits, dim=-1)


def expect_flash(got, q, k, v, label, is_causal=False, scale=None, rule=None):
    want_out, want_lse = oracle(q, k, v, is_causal, scale)
    rule = rule or "tile by tile with the running max, denominator and output rescaled by exp(m_old - m_new)"
    expect_close(got["out"], want_out, rule, what=f"out ({label})")
    expect_close(got["lse"], want_lse, "lse = m + log(l): the log-sum-exp of each query's logits", what=f"lse ({label})")


@check("online_logsumexp([0, log 3, 1e4 - 1e4 ...]) by hand, in blocks of 2")
def logsumexp_by_hand(run):
    x = torch.tensor([[0.0, math.log(3.0), 0.0], [1000.0, 1000.0, float("-inf")]])
    got = run("online_logsumexp", x, 2)
    expect_close(got, torch.tensor([math.log(5.0), 1000.0 + math.log(2.0)]),
                 "log(e^0 + 3 + e^0) = log 5; huge entries need the running maximum (log(2 e^1000) = 1000 + log 2), "
                 "and -inf adds nothing", what="online_logsumexp(x, block_size=2)")


@check("flash_attention agrees with torch (L=5, S=7, tiles of 2 and 3 that do not divide them)")
def flash_small(run):
    g = torch.Generator().manual_seed(0)
    q, k, v = torch.randn(5, 4, generator=g), torch.randn(7, 4, generator=g), torch.randn(7, 3, generator=g)
    got = run(flash, q, k, v, 2, 3)
    expect_flash(got, q, k, v, "L=5, S=7, block_q=2, block_k=3")


@check("flash_attention with is_causal: the mask inside a tile uses absolute positions")
def flash_causal(run):
    g = torch.Generator().manual_seed(1)
    q, k, v = torch.randn(2, 6, 4, generator=g), torch.randn(2, 6, 4, generator=g), torch.randn(2, 6, 2, generator=g)
    got = run(flash, q, k, v, 4, 2, is_causal=True)
    expect_flash(got, q, k, v, "L=S=6, block_q=4, block_k=2, causal", is_causal=True,
                 rule="query at position i sees keys j <= i: in the tile starting at (qs, ks), row r is position "
                      "qs + r and column c is position ks + c")


@check("merge_attention of the two halves of the keys equals attention over all of them")
def merge_halves(run):
    g = torch.Generator().manual_seed(2)
    q, k, v = torch.randn(3, 4, generator=g), torch.randn(6, 4, generator=g), torch.randn(6, 2, generator=g)
    out_a, lse_a = oracle(q, k[:4], v[:4])
    out_b, lse_b = oracle(q, k[4:], v[4:])
    got = run("merge_attention", out_a, lse_a, out_b, lse_b)
    want_out, want_lse = oracle(q, k, v)
    expect_close(got, [want_out, want_lse], "lse = logaddexp(lse_a, lse_b); out = exp(lse_a - lse) out_a + "
                 "exp(lse_b - lse) out_b", what="(out, lse) merged from keys 0..3 and 4..5")
