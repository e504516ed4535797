"""Hidden graders of transformer/flash_attention: online_logsumexp against torch.logsumexp (block
sizes that divide, do not divide and exceed N; huge and -inf entries; all -inf rows); the tiled
attention against torch's scaled_dot_product_attention and logsumexp on random shapes, tiles,
scales and the causal triangle; the two properties that make it FlashAttention -- no tensor near
the size of the [L, S] score matrix (every torch result is watched) and causal tiles in the future
skipped (filled with NaN here) --; huge logits; gradients; merging partial results over key splits,
including empty parts and huge lse gaps."""
import math

import torch
from torch.overrides import TorchFunctionMode

from mlkata.checks import check, expect, expect_close, expect_tensor, probe, visible_module

V = visible_module("transformer/flash_attention")
NEG_INF = float("-inf")


class LargestResult(TorchFunctionMode):
    """Records the largest number of elements of any tensor a torch function returns."""

    def __init__(self):
        super().__init__()
        self.largest = 0

    def __torch_function__(self, func, types, args=(), kwargs=None):
        result = func(*args, **(kwargs or {}))
        for t in result if isinstance(result, (tuple, list)) else (result,):
            if isinstance(t, torch.Tensor):
                self.largest = max(self.largest, t.numel())
        return result


@probe
def flash_each(sub, cases):
    return [V.flash.fn(sub, **case) for case in cases]


@probe
def flash_watched(sub, q, k, v, block_q, block_k, is_causal):
    """flash_attention under a mode that records the largest tensor any torch call returned."""
    with LargestResult() as watch:
        out, lse = sub.flash_attention(q, k, v, block_q=block_q, block_k=block_k, is_causal=is_causal)
    return {"out": out, "lse": lse, "largest": watch.largest}


@probe
def lse_each(sub, cases):
    return [sub.online_logsumexp(x, b) for x, b in cases]


@probe
def merge_each(sub, cases):
    return [sub.merge_attention(*case) for case in cases]


def qkv(seed, lead, L, S, d=4, dv=3, dtype=torch.float32, scale=1.5):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(*lead, L, d, generator=g, dtype=dtype) * scale,
            torch.randn(*lead, S, d, generator=g, dtype=dtype) * scale,
            torch.randn(*lead, S, dv, generator=g, dtype=dtype))


def part(q, k, v, keys):
    """The oracle's (out, lse) of attention over the keys selected by the bool vector ``keys``;
    rows with no selected key get zeros and -inf."""
    scale = 1 / math.sqrt(q.size(-1))
    logits = ((q @ k.transpose(-2, -1)) * scale).masked_fill(~keys, NEG_INF)
    lse = torch.logsumexp(logits, dim=-1)
    w = torch.exp(logits - torch.where(torch.isneginf(lse), 0.0, lse).unsqueeze(-1))
    return w @ v, lse


# --------------------------------------------------------------------------------------------
# online_logsumexp
# --------------------------------------------------------------------------------------------

@check("online_logsumexp agrees with torch.logsumexp for block sizes that divide N, do not, and exceed it",
       points=2)
def logsumexp_random(run):
    cases = []
    for seed, (shape, block) in enumerate([((10,), 3), ((4, 12), 4), ((2, 3, 7), 1), ((5, 6), 6), ((3, 5), 9),
                                           ((2, 2, 13), 5)]):
        g = torch.Generator().manual_seed(seed)
        cases.append((torch.randn(shape, generator=g) * 3, block))
    gots = run(lse_each, cases)
    for (x, block), got in zip(cases, gots):
        want = torch.logsumexp(x, dim=-1)
        expect_tensor(got, "online_logsumexp returns one value per row: shape x.shape[:-1]", shape=want.shape)
        expect_close(got, want, "rescale the running sum by exp(m_old - m_new) whenever a block raises the maximum",
                     what=f"online_logsumexp(x of shape {list(x.shape)}, block_size={block})")


@check("online_logsumexp stays finite for entries of +-1e4, ignores -inf entries, and gives -inf for all -inf rows")
def logsumexp_extremes(run):
    x = torch.tensor([[1e4, 1e4 - 1, -1e4, 0.0, 1e4 + 2],          # a late block raises the max
                      [-1e4, -1e4, -1e4 - 3, -1e4, -1e4],
                      [NEG_INF, 0.0, NEG_INF, NEG_INF, 1.0],
                      [NEG_INF, NEG_INF, NEG_INF, NEG_INF, NEG_INF],
                      [NEG_INF, NEG_INF, NEG_INF, 5.0, NEG_INF]])    # the first blocks are all -inf
    got = run(lse_each, [(x, 2), (x, 1)])
    want = torch.logsumexp(x.double(), -1).float()
    for block, g in zip((2, 1), got):
        expect_close(g, want, "subtract the running maximum before exp; while a row has seen only -inf, shift by "
                     "0 instead of -inf (exp(-inf - -inf) is NaN); an all -inf row gives -inf",
                     what=f"online_logsumexp on extreme rows (block_size={block})")


# --------------------------------------------------------------------------------------------
# flash_attention
# --------------------------------------------------------------------------------------------

@check("flash_attention agrees with torch on random shapes, tiles (dividing or not) and scales", points=2)
def flash_random(run):
    specs = [((), 7, 9, 2, 4, None), ((2,), 8, 8, 4, 4, None), ((2, 3), 5, 11, 3, 5, 0.3), ((1,), 1, 6, 1, 1, None),
             ((3,), 6, 1, 4, 2, 2.0), ((2,), 9, 4, 20, 20, None)]
    cases = []
    for seed, (lead, L, S, bq, bk, scale) in enumerate(specs):
        q, k, v = qkv(seed, lead, L, S)
        cases.append(dict(q=q, k=k, v=v, block_q=bq, block_k=bk, scale=scale))   # is_causal: the default
    gots = run(flash_each, cases)
    for c, got in zip(cases, gots):
        label = f"q {list(c['q'].shape)}, S={c['k'].size(-2)}, block_q={c['block_q']}, block_k={c['block_k']}, " \
                f"scale={c['scale']}, is_causal left to its default (False)"
        expect_tensor(got["out"], "out is [..., L, dv]", shape=(*c["q"].shape[:-1], c["v"].size(-1)))
        expect_tensor(got["lse"], "lse is [..., L]", shape=c["q"].shape[:-1])
        V.expect_flash(got, c["q"], c["k"], c["v"], label, scale=c["scale"])


@check("is_causal: top-left triangle with absolute positions across tiles, also for L != S", points=2)
def flash_causal_random(run):
    specs = [((2,), 8, 8, 3, 2), ((1,), 6, 10, 4, 3), ((2,), 10, 4, 3, 3), ((), 9, 9, 9, 1), ((3,), 7, 7, 2, 5)]
    cases = []
    for seed, (lead, L, S, bq, bk) in enumerate(specs, start=10):
        q, k, v = qkv(seed, lead, L, S)
        cases.append(dict(q=q, k=k, v=v, block_q=bq, block_k=bk, is_causal=True))
    gots = run(flash_each, cases)
    for c, got in zip(cases, gots):
        V.expect_flash(got, c["q"], c["k"], c["v"], f"L={c['q'].size(-2)}, S={c['k'].size(-2)}, block_q="
                       f"{c['block_q']}, block_k={c['block_k']}, causal", is_causal=True,
                       rule="query i sees keys j <= i, i and j ABSOLUTE positions (row r of the tile at qs is "
                            "position qs + r, column c of the tile at ks is position ks + c)")


@check("never materialises the [L, S] score matrix: no torch result reaches a quarter of its size", points=2)
def flash_memory(run):
    lead, L, S, bq, bk = (2,), 128, 128, 16, 16
    q, k, v = qkv(20, lead, L, S)
    for is_causal in (False, True):
        got = run(flash_watched, q, k, v, bq, bk, is_causal)
        V.expect_flash(got, q, k, v, f"L=S=128, tiles of 16, is_causal={is_causal}", is_causal=is_causal)
        limit = 2 * L * S // 4
        expect(got["largest"] < limit, "work tile by tile: scores are [..., block_q, block_k] (or at most a "
               "[..., L, block_k] strip), never [..., L, S] -- that matrix is what FlashAttention exists to avoid",
               f"with L = S = 128, block_q = block_k = 16 and 2 batch rows (is_causal={is_causal}), your code built a "
               f"tensor of {got['largest']} elements; the full score matrix has {2 * L * S}, the limit is {limit}")


@check("is_causal skips key tiles wholly in the future (NaN keys and values there must not reach the output)")
def flash_causal_skips(run):
    lead, L, S, bq, bk = (2,), 32, 64, 16, 16
    q, k, v = qkv(30, lead, L, S)
    k_nan, v_nan = k.clone(), v.clone()
    k_nan[..., L:, :] = float("nan")          # keys 32..63: two whole tiles no query may see
    v_nan[..., L:, :] = float("nan")
    [got] = run(flash_each, [dict(q=q, k=k_nan, v=v_nan, block_q=bq, block_k=bk, is_causal=True)])
    out = got["out"]
    expect(isinstance(out, torch.Tensor) and not bool(out.isnan().any()),
           "with is_causal, stop each query tile's key loop at its last query's position: tiles after it are "
           "never read (masking them is not enough: 0 * NaN is NaN, and it is wasted work)",
           f"out has {int(out.isnan().sum()) if isinstance(out, torch.Tensor) else '?'} NaN entries when keys and "
           f"values 32..63 (two whole future tiles for L = 32 queries) hold NaN")
    V.expect_flash(got, q, k[..., :L, :], v[..., :L, :], "L=32, S=64, future tiles NaN", is_causal=True)


@check("huge logits (q * 1e4) stay finite and agree with torch, causal or not")
def flash_huge(run):
    q, k, v = qkv(40, (2,), 6, 7)
    cases = [dict(q=q * 1e4, k=k, v=v, block_q=2, block_k=3, is_causal=c) for c in (False, True)]
    gots = run(flash_each, cases)
    for c, got in zip(cases, gots):
        out = got["out"]
        expect(isinstance(out, torch.Tensor) and bool(out.isfinite().all()),
               "subtract the running maximum before exp and rescale by exp(m_old - m_new) <= 1: exp(1e4) overflows",
               f"out is not finite (q * 1e4, is_causal={c['is_causal']})")
        want_out, want_lse = V.oracle(c["q"].double(), k.double(), v.double(), c["is_causal"])
        expect_close(out, want_out.float(), "huge logits make the softmax (nearly) one-hot", rtol=1e-3, atol=1e-3,
                     what=f"out (q * 1e4, is_causal={c['is_causal']})")
        expect_close(got["lse"], want_lse.float(), "lse = m + log(l) stays finite", rtol=1e-4, atol=1e-2,
                     what=f"lse (q * 1e4, is_causal={c['is_causal']})")


@check("gradients of out and lse flow through the tiles and agree with torch's (float64)")
def flash_gradients(run):
    q, k, v = qkv(50, (2,), 5, 6, dtype=torch.float64)
    g = torch.Generator().manual_seed(51)
    go = (torch.randn(2, 5, 3, generator=g, dtype=torch.float64), torch.randn(2, 5, generator=g, dtype=torch.float64))
    [got] = run(flash_each, [dict(q=q, k=k, v=v, block_q=2, block_k=4, is_causal=True, grad_out=go)])
    leaves = [t.clone().requires_grad_(True) for t in (q, k, v)]
    out, lse = V.oracle(*leaves, is_causal=True)
    ((out * go[0]).sum() + (lse * go[1]).sum()).backward()
    expect_close(got["out"], out.detach(), "float64 in, float64 out", rtol=1e-10, atol=1e-12, check_dtype=True,
                 what="out")
    expect_close(got["grads"], [t.grad for t in leaves], "the tiled computation is differentiable: out-of-place "
                 "updates of l and acc let autograd reach q, k and v", rtol=1e-8, atol=1e-10, what="[dq, dk, dv]")


# --------------------------------------------------------------------------------------------
# merge_attention
# --------------------------------------------------------------------------------------------

@check("merge_attention of random key splits (contiguous or interleaved, folded over 3 parts) equals full "
       "attention", points=2)
def merge_random(run):
    cases, wants, labels = [], [], []
    for seed, (lead, L, S) in enumerate([((2,), 4, 9), ((), 3, 5), ((2, 2), 5, 8)], start=60):
        q, k, v = qkv(seed, lead, L, S)
        g = torch.Generator().manual_seed(seed)
        for label, split in [("contiguous", torch.arange(S) < S // 2), ("random", torch.rand(S, generator=g) < 0.5)]:
            a, b = part(q, k, v, split), part(q, k, v, ~split)
            cases.append((*a, *b))
            wants.append(part(q, k, v, torch.ones(S, dtype=torch.bool)))
            labels.append(f"{label} split, q {list(q.shape)}, S={S}")
    gots = run(merge_each, cases)
    for got, want, label in zip(gots, wants, labels):
        expect_close(got, list(want), "lse = logaddexp(lse_a, lse_b); out = exp(lse_a - lse) out_a + "
                     "exp(lse_b - lse) out_b", what=f"merged (out, lse) ({label})")
    # three parts, merged pairwise: ((A, B), C)
    q, k, v = qkv(70, (2,), 3, 9)
    thirds = [torch.arange(9) % 3 == r for r in range(3)]
    pa, pb, pc = (part(q, k, v, t) for t in thirds)
    [ab] = run(merge_each, [(*pa, *pb)])
    [abc] = run(merge_each, [(ab[0], ab[1], *pc)])
    expect_close(abc, list(part(q, k, v, torch.ones(9, dtype=torch.bool))), "merging is associative: merge(merge(A, "
                 "B), C) is attention over all three parts", what="(out, lse) merged from three interleaved parts")


@check("merge_attention: empty parts (lse = -inf) add nothing, both empty gives zeros and -inf, huge gaps stay finite")
def merge_extremes(run):
    q, k, v = qkv(80, (), 4, 6)
    keys_a = torch.tensor([True, True, False, False, False, False])
    a, b = part(q, k, v, keys_a), part(q, k, v, ~keys_a)
    empty = (torch.zeros(4, 3), torch.full((4,), NEG_INF))
    out_gap = torch.randn(4, 3, generator=torch.Generator().manual_seed(81))
    gap_a = (a[0], a[1] + 1e4)                                   # part A's logits 1e4 higher: B vanishes
    gots = run(merge_each, [(*a, *empty), (*empty, *b), (*empty, *empty), (*gap_a, out_gap, b[1])])
    expect_close(gots[0], list(a), "an empty part B (lse -inf) leaves A unchanged", what="merge(A, empty)")
    expect_close(gots[1], list(b), "an empty part A (lse -inf) leaves B unchanged", what="merge(empty, B)")
    expect_close(gots[2], list(empty), "two empty parts give out = zeros and lse = -inf (not NaN)",
                 what="merge(empty, empty)")
    expect_close(gots[3], [gap_a[0], gap_a[1]], "lse 1e4 apart: the smaller part's weight is exp(-1e4) = 0, "
                 "never inf or NaN", what="merge(A with lse + 1e4, B)")
