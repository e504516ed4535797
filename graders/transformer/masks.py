"""Hidden graders of transformer/masks: every mask against brute-force loops (and the causal and
additive forms against torch.nn.Transformer.generate_square_subsequent_mask) on random sizes;
left, right and scattered padding; tokenizer-style int masks; dtypes and fill values; the
end-to-end property that padding leaves the real tokens' attention outputs unchanged."""
import math

import torch
import torch.nn.functional as F

from mlkata.checks import Fail, check, expect, expect_close, expect_equal, expect_tensor, probe, visible_module

V = visible_module("transformer/masks")


@probe
def raises(sub, name, *args, **kwargs):
    """Call ``sub.<name>``; report the exception it raises, if any."""
    try:
        getattr(sub, name)(*args, **kwargs)
    except NotImplementedError:
        raise
    except Exception as e:  # noqa: BLE001 - the check decides which exception is right
        return {"raised": type(e).__name__, "message": str(e)[:200]}
    return {"raised": None}


# --------------------------------------------------------------------------------------------
# Brute-force oracles: explicit loops, nothing shared with a vectorised solution
# --------------------------------------------------------------------------------------------

def brute_causal(T):
    return torch.tensor([[j <= i for j in range(T)] for i in range(T)], dtype=torch.bool).reshape(T, T)


def brute_lengths(lengths, max_len):
    return torch.tensor([[t < int(n) for t in range(max_len)] for n in lengths], dtype=torch.bool) \
        .reshape(len(lengths), max_len)


def brute_combined(padding, causal):
    B, T = padding.shape
    out = torch.zeros(B, 1, T, T, dtype=torch.bool)
    for b in range(B):
        for i in range(T):
            for j in range(T):
                out[b, 0, i, j] = bool(padding[b, j]) and (j <= i or not causal)
    return out


def call_all(run, calls):
    """Run (name, args, kwargs) calls in one go; check that no tensor argument was modified."""
    gots = run(V.call_each, calls)
    for (name, args, _), got in zip(calls, gots):
        expect(got["unchanged"], f"{name} must not modify its arguments",
               f"{name}{tuple(list(a.shape) if isinstance(a, torch.Tensor) else a for a in args)} changed an input")
    return [g["out"] for g in gots]


def padding_cases(seed, B, T, kind):
    """A [B, T] bool padding mask (True = real): right, left or scattered padding."""
    g = torch.Generator().manual_seed(seed)
    lengths = torch.randint(0, T + 1, (B,), generator=g)
    lengths[0] = T                                             # one full row, so T is the real width
    pos = torch.arange(T)
    if kind == "right":
        return pos < lengths[:, None]
    if kind == "left":
        return pos >= (T - lengths)[:, None]
    mask = torch.rand(B, T, generator=g) < 0.7
    mask[0] = True
    return mask


# --------------------------------------------------------------------------------------------
# causal_mask
# --------------------------------------------------------------------------------------------

@check("causal_mask agrees with loops and with torch's generate_square_subsequent_mask for T = 1..40", points=2)
def causal_many_sizes(run):
    sizes = [1, 2, 5, 8, 17, 40]
    gots = call_all(run, [("causal_mask", (T,), {}) for T in sizes])
    for T, got in zip(sizes, gots):
        expect_tensor(got, f"causal_mask(T) is a bool tensor [T, T] (T={T})", shape=(T, T), dtype=torch.bool)
        expect_equal(got, brute_causal(T), "entry [i, j] is True iff j <= i: the diagonal is allowed, "
                     "the upper triangle (the future) is blocked", what=f"causal_mask({T})")
        expect_equal(got, torch.nn.Transformer.generate_square_subsequent_mask(T) == 0,
                     "True exactly where torch's square subsequent mask is 0", what=f"causal_mask({T})")


# --------------------------------------------------------------------------------------------
# lengths_to_padding_mask
# --------------------------------------------------------------------------------------------

@check("lengths_to_padding_mask agrees with loops on random lengths, with and without max_len", points=2)
def lengths_random(run):
    cases = []
    for seed in range(6):
        g = torch.Generator().manual_seed(100 + seed)
        B = int(torch.randint(1, 7, (1,), generator=g))
        lengths = torch.randint(0, 12, (B,), generator=g)
        max_len = None if seed % 2 else int(lengths.max()) + seed
        cases.append((lengths, max_len))
    calls = [("lengths_to_padding_mask", (lengths,), {} if m is None else {"max_len": m}) for lengths, m in cases]
    for (lengths, m), got in zip(cases, call_all(run, calls)):
        T = int(lengths.max()) if m is None else m
        label = f"lengths={lengths.tolist()}, max_len={m}"
        expect_tensor(got, f"the mask is bool [B, T], T = max_len or max(lengths) ({label})",
                      shape=(len(lengths), T), dtype=torch.bool)
        expect_equal(got, brute_lengths(lengths, T), "mask[b, t] is True iff t < lengths[b] (right padding)",
                     what=f"mask ({label})")


@check("lengths edge cases: all zero (gives [B, 0]), one sequence, max_len == longest")
def lengths_edges(run):
    cases = [(torch.tensor([0, 0]), None, (2, 0)), (torch.tensor([4]), None, (1, 4)),
             (torch.tensor([3, 1, 3]), 3, (3, 3)), (torch.tensor([0, 2]), 5, (2, 5))]
    calls = [("lengths_to_padding_mask", (n,), {} if m is None else {"max_len": m}) for n, m, _ in cases]
    for (n, m, shape), got in zip(cases, call_all(run, calls)):
        label = f"lengths={n.tolist()}, max_len={m}"
        expect_tensor(got, f"the mask is bool [B, T] ({label})", shape=shape, dtype=torch.bool)
        expect_equal(got, brute_lengths(n, shape[1]), "mask[b, t] is True iff t < lengths[b]",
                     what=f"mask ({label})")


@check("max_len shorter than the longest sequence raises ValueError")
def lengths_too_short(run):
    got = run(raises, "lengths_to_padding_mask", torch.tensor([2, 5, 1]), max_len=4)
    expect_equal(got["raised"], "ValueError", "a max_len that would cut a sequence short is an error: raise "
                 "ValueError", what="exception for lengths [2, 5, 1], max_len=4")


# --------------------------------------------------------------------------------------------
# ids_to_padding_mask
# --------------------------------------------------------------------------------------------

@check("ids_to_padding_mask: True on real tokens for left, right and scattered pads, any pad_id", points=2)
def ids_random(run):
    cases = []
    for seed, (kind, pad_id) in enumerate([("right", 0), ("left", 50256), ("scattered", -100), ("left", 1),
                                           ("right", 7)]):
        g = torch.Generator().manual_seed(200 + seed)
        real = padding_cases(200 + seed, 4, 9, kind)
        ids = torch.randint(2, 30000, (4, 9), generator=g)
        ids[ids == pad_id] = pad_id + 1                          # no accidental pads among the real tokens
        ids[~real] = pad_id
        cases.append((kind, pad_id, ids, real))
    gots = call_all(run, [("ids_to_padding_mask", (ids, pad_id), {}) for _, pad_id, ids, _ in cases])
    for (kind, pad_id, ids, real), got in zip(cases, gots):
        expect_tensor(got, "the mask is bool [B, T]", shape=ids.shape, dtype=torch.bool)
        expect_equal(got, real, "True where input_ids != pad_id, wherever the pads sit (True = real token)",
                     what=f"mask ({kind} padding, pad_id={pad_id})")


# --------------------------------------------------------------------------------------------
# build_attention_mask
# --------------------------------------------------------------------------------------------

@check("build_attention_mask agrees with loops: right, left and scattered padding, causal or not", points=2)
def build_random(run):
    cases = []
    for seed, (kind, causal) in enumerate([("right", True), ("right", False), ("left", True), ("left", False),
                                           ("scattered", True), ("scattered", False)]):
        g = torch.Generator().manual_seed(300 + seed)
        B, T = int(torch.randint(1, 5, (1,), generator=g)), int(torch.randint(1, 8, (1,), generator=g))
        cases.append((kind, causal, padding_cases(300 + seed, B, T, kind)))
    gots = call_all(run, [("build_attention_mask", (pad,), {"causal": causal}) for _, causal, pad in cases])
    for (kind, causal, pad), got in zip(cases, gots):
        B, T = pad.shape
        label = f"{kind} padding, causal={causal}, B={B}, T={T}"
        expect_tensor(got, f"the combined mask is bool [B, 1, T, T] ({label})", shape=(B, 1, T, T), dtype=torch.bool)
        expect_equal(got, brute_combined(pad, causal),
                     "entry [b, 0, i, j] is True iff key j is real (padding_mask[b, j]) and, if causal, j <= i; "
                     "only keys are masked, so rows of pad queries are not blanked", what=f"mask ({label})")


@check("a tokenizer's int64 attention_mask (1 = real, 0 = pad) works like the bool mask")
def build_int_mask(run):
    pad = padding_cases(400, 3, 6, "left")
    cases = [(pad.long(), True), (pad.long(), False), (pad.int(), True)]
    gots = call_all(run, [("build_attention_mask", (p,), {"causal": c}) for p, c in cases])
    for (p, causal), got in zip(cases, gots):
        expect_tensor(got, "the combined mask is bool [B, 1, T, T], also for integer input",
                      shape=(3, 1, 6, 6), dtype=torch.bool)
        expect_equal(got, brute_combined(pad, causal), "treat a 0/1 integer mask as bool (~ on an int tensor is "
                     "bitwise NOT: ~1 == -2, which is truthy)", what=f"mask ({p.dtype} input, causal={causal})")


@check("end to end: in attention, the mask leaves real tokens' outputs as if there were no padding")
def build_end_to_end(run):
    g = torch.Generator().manual_seed(500)
    B, H, T, d = 3, 2, 7, 4
    lengths = torch.tensor([7, 4, 2])
    pad = torch.arange(T) < lengths[:, None]
    q, k, v = (torch.randn(B, H, T, d, generator=g, dtype=torch.float64) for _ in range(3))
    gots = call_all(run, [("build_attention_mask", (pad,), {"causal": c}) for c in (True, False)])
    for causal, got in zip((True, False), gots):
        mask = expect_tensor(got, "the combined mask is bool [B, 1, T, T]", shape=(B, 1, T, T), dtype=torch.bool)
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        for b, n in enumerate(lengths.tolist()):
            alone = F.scaled_dot_product_attention(q[b:b + 1, :, :n], k[b:b + 1, :, :n], v[b:b + 1, :, :n],
                                                   is_causal=causal)
            expect_close(out[b:b + 1, :, :n], alone, "with the mask, attention over a padded batch gives every real "
                         "token the output it has on its own, unpadded sequence", what=f"attention output of "
                         f"sequence {b} (length {n}, causal={causal})")


# --------------------------------------------------------------------------------------------
# to_additive_mask
# --------------------------------------------------------------------------------------------

@check("to_additive_mask equals torch's generate_square_subsequent_mask in float32, float64, float16, bfloat16",
       points=2)
def additive_vs_torch(run):
    cases = [(T, dt) for T, dt in [(1, torch.float32), (6, torch.float64), (9, torch.float16), (5, torch.bfloat16),
                                   (33, torch.float32)]]
    calls = [("to_additive_mask", (brute_causal(T),), {} if dt == torch.float32 else {"dtype": dt}) for T, dt in cases]
    for (T, dt), got in zip(cases, call_all(run, calls)):
        want = torch.nn.Transformer.generate_square_subsequent_mask(T, dtype=dt)
        expect_close(got, want, "exactly 0.0 where allowed and -inf where blocked, in the requested dtype "
                     "(default float32)", atol=0, rtol=0, check_dtype=True, what=f"additive mask (T={T}, {dt})")


@check("to_additive_mask keeps any shape: a random [B, 1, T, S] mask becomes 0 / -inf entry by entry")
def additive_any_shape(run):
    g = torch.Generator().manual_seed(600)
    masks = [torch.rand(2, 1, 4, 6, generator=g) < 0.5, torch.rand(3, 5, generator=g) < 0.3,
             torch.rand(7, generator=g) < 0.5]
    for m, got in zip(masks, call_all(run, [("to_additive_mask", (m,), {}) for m in masks])):
        want = torch.zeros(m.shape).masked_fill(~m, -math.inf)
        expect_close(got, want, "0.0 where the mask is True (not 1.0), -inf where it is False, same shape",
                     atol=0, rtol=0, check_dtype=True, what=f"additive mask of shape {list(m.shape)}")


@check("fill replaces -inf: finfo(dtype).min (Hugging Face's choice) or any finite value")
def additive_fill(run):
    m = padding_cases(700, 3, 5, "scattered")
    cases = [(torch.float16, torch.finfo(torch.float16).min), (torch.float32, torch.finfo(torch.float32).min),
             (torch.float32, -1e4)]
    calls = [("to_additive_mask", (m,), {"dtype": dt, "fill": fill}) for dt, fill in cases]
    for (dt, fill), got in zip(cases, call_all(run, calls)):
        want = torch.zeros(m.shape, dtype=dt).masked_fill(~m, fill)
        expect_close(got, want, "blocked entries take the value `fill` when it is given (0.0 on allowed ones)",
                     atol=0, rtol=0, check_dtype=True, what=f"additive mask (dtype={dt}, fill={fill:g})")


@check("the additive mask works in a softmax: blocked keys get weight exactly 0, no NaN, even for logits 1e4")
def additive_in_softmax(run):
    g = torch.Generator().manual_seed(800)
    pad = padding_cases(800, 2, 6, "right")
    [got] = call_all(run, [("to_additive_mask", (brute_combined(pad, True),), {})])
    got = expect_tensor(got, "the additive mask has the shape of the boolean one", shape=(2, 1, 6, 6))
    logits = torch.randn(2, 3, 6, 6, generator=g) * 1e4
    w = torch.softmax(logits + got, dim=-1)
    expect(bool(w.isfinite().all()), "every row keeps at least one key here: the weights must be finite",
           f"{int((~w.isfinite()).sum())} weights are NaN or inf")
    blocked = ~brute_combined(pad, True).expand(2, 3, 6, 6)
    expect(bool((w[blocked] == 0).all()), "exp(-inf) = 0: blocked keys get weight exactly 0",
           f"largest weight on a blocked key: {w[blocked].max().item():.3g}")
