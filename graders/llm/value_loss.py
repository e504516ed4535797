"""Hidden graders of llm/value_loss.

The oracle is a plain Python loop written here, independent of the reference: one position at
a time, in float64, with the gradient derived by hand.  tests/test_twins_llm_value_loss.py shows
that it and the reference agree with the formulas of TRL's PPOTrainer.  Checks: random agreement
(loss, clip fraction, gradient), the three clipping regimes on both sides of V_old, the centre and
units of the clip window, the strict comparison of clip_frac, masks (None, garbage, inf/NaN
padding), defaults, shapes, float64, and inputs left untouched.
"""
import math

import torch

from mlkata.checks import Fail, check, expect, expect_close, expect_tensor, visible_module

V = visible_module("llm/value_loss")
loss_and_frac = V.loss_and_frac


# --------------------------------------------------------------------------------------------
# The oracle: a straightforward loop
# --------------------------------------------------------------------------------------------

def oracle(values, returns, old_values=None, clip_eps=0.2, mask=None):
    """(loss, clip_frac, d loss / d values), one position at a time in float64.
    ``old_values=None`` gives the unclipped loss (clip_frac 0)."""
    v, r = (x.double().reshape(-1).tolist() for x in (values, returns))
    old = None if old_values is None else old_values.double().reshape(-1).tolist()
    keep = [True] * len(v) if mask is None else mask.reshape(-1).tolist()
    n = sum(keep)
    total, n_clipped, grad = 0.0, 0, [0.0] * len(v)
    for i in range(len(v)):
        if not keep[i]:
            continue                                     # padding is never read
        unclipped = (v[i] - r[i]) ** 2
        if old is None:
            total += unclipped
            grad[i] = (v[i] - r[i]) / n                  # d/dV of 0.5 (V - R)^2 / n
            continue
        v_clip = min(max(v[i], old[i] - clip_eps), old[i] + clip_eps)
        clipped = (v_clip - r[i]) ** 2
        if clipped > unclipped:
            total += clipped                             # constant in V: no gradient
            n_clipped += 1
        else:
            total += unclipped
            grad[i] = (v[i] - r[i]) / n
    return 0.5 * total / n, n_clipped / n, torch.tensor(grad, dtype=torch.float64).reshape(values.shape)


# --------------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------------

def prefix_mask(lengths, T):
    return torch.arange(T)[None, :] < torch.tensor(lengths)[:, None]     # (B, T)


def random_mask(g, B, T):
    """Prefix mask with B lengths in [1, T]; the first row has length 1, the second length T."""
    lengths = torch.randint(1, T + 1, (B,), generator=g).tolist()
    lengths[0] = 1
    if B > 1:
        lengths[1] = T
    return prefix_mask(lengths, T)


def fill_padding(x, mask, value):
    """``x`` with ``value`` (a number or a tensor of x's shape) at the padded positions."""
    return torch.where(mask, x, torch.as_tensor(value, dtype=x.dtype).expand_as(x))


def value_inputs(seed, shape, dtype=torch.float32, spread=0.3):
    """Like a value head during PPO: old predictions around a scale of a few units, new ones moved
    by about ``spread`` (so some land outside a 0.2 window, some inside), returns nearby."""
    g = torch.Generator().manual_seed(seed)
    old = 2 * torch.randn(shape, generator=g, dtype=torch.float64)
    values = old + spread * torch.randn(shape, generator=g, dtype=torch.float64)
    returns = old + torch.randn(shape, generator=g, dtype=torch.float64)
    return values.to(dtype), old.to(dtype), returns.to(dtype)


def fmt(t):
    return "[" + ", ".join(f"{v:.4g}" for v in t.reshape(-1).tolist()) + "]"


PLAIN_RULE = "value_loss = 0.5 * mean over the True positions of (values - returns)^2"
LOSS_RULE = ("loss = 0.5 * mean over the True positions of max((V - R)^2, (V_clip - R)^2), "
             "V_clip = clamp(V, V_old - eps, V_old + eps)")
FRAC_RULE = "clip_frac = fraction of the True positions where (V_clip - R)^2 > (V - R)^2 (strictly greater)"


def padding_rule(fn):
    return f"{fn}: values at positions where mask is False must not change the result (they are never read)"


def expect_differentiable(got, fn):
    expect(got["differentiable"] is True, f"{fn} must be differentiable with respect to values (build it from "
           "torch operations: no .item(), no .detach() on values, no torch.no_grad())",
           f"the returned loss does not require grad")


# --------------------------------------------------------------------------------------------
# value_loss
# --------------------------------------------------------------------------------------------

@check("value_loss agrees with a position-by-position loop on random padded batches", points=2)
def plain_random(run):
    for seed in range(5):
        values, _, returns = value_inputs(seed, (4, 6))
        mask = random_mask(torch.Generator().manual_seed(100 + seed), 4, 6)
        want, _, _ = oracle(values, returns, mask=mask)
        got = run(V.vloss, values, returns, mask)
        expect_close(got["loss"], want, PLAIN_RULE, what=f"value_loss (seed {seed})")
        expect_tensor(got["loss"], "value_loss returns a 0-dim tensor", shape=())


@check("value_loss: gradient (V - R) / N at the True positions, 0 at padded ones")
def plain_gradient(run):
    values, _, returns = value_inputs(5, (3, 7), torch.float64)
    mask = random_mask(torch.Generator().manual_seed(105), 3, 7)
    returns = fill_padding(returns, mask, 1e6)              # finite garbage: its gradient must be 0
    _, _, want = oracle(values, returns, mask=mask)
    got = run(V.vloss, values, returns, mask, grad=True)
    expect_differentiable(got, "value_loss")
    expect_close(got["grad"], want, "d value_loss / d V = (V - R) / N at the N True positions (the 0.5 cancels the "
                 "2 of the square), 0 at padded positions", rtol=1e-7, atol=1e-12, what="gradient w.r.t. values")


@check("value_loss: mask=None (or no mask argument) averages over all positions; works on 1-D and 3-D inputs")
def plain_defaults_and_shapes(run):
    values, _, returns = value_inputs(6, (3, 5))
    want, _, _ = oracle(values, returns)
    for pass_mask in (True, False):
        got = run(V.vloss, values, returns, None, pass_mask=pass_mask)
        expect_close(got["loss"], want, PLAIN_RULE + " -- with mask=None every position counts",
                     what="value_loss " + ("with mask=None" if pass_mask else "called without a mask"))
    values, _, returns = value_inputs(7, (2, 3, 4))
    mask = torch.rand(2, 3, 4, generator=torch.Generator().manual_seed(7)) < 0.6
    want, _, _ = oracle(values, returns, mask=mask)
    expect_close(run(V.vloss, values, returns, mask)["loss"], want, PLAIN_RULE + " (3-D input, any mask pattern)",
                 what="value_loss (shape [2, 3, 4])")
    values, _, returns = value_inputs(8, (9,))
    expect_close(run(V.vloss, values, returns)["loss"], oracle(values, returns)[0], PLAIN_RULE + " (1-D input)",
                 what="value_loss (shape [9])")


# --------------------------------------------------------------------------------------------
# clipped_value_loss
# --------------------------------------------------------------------------------------------

@check("clipped_value_loss agrees with a position-by-position loop on random padded batches (loss and clip_frac)",
       points=2)
def clipped_random(run):
    for seed, eps in zip(range(10, 16), (0.2, 0.1, 0.5, 0.2, 0.05, 1.0)):
        values, old, returns = value_inputs(seed, (4, 6))
        mask = random_mask(torch.Generator().manual_seed(100 + seed), 4, 6)
        want_loss, want_frac, _ = oracle(values, returns, old, eps, mask)
        loss, frac = loss_and_frac(run(V.cvloss, values, old, returns, eps, mask))
        expect_close(loss, want_loss, LOSS_RULE, what=f"loss (seed {seed}, eps {eps})")
        expect_close(frac, want_frac, FRAC_RULE, what=f"clip_frac (seed {seed}, eps {eps})")


REGIMES = [
    # (values, returns, rule) with old values 0 and eps 0.2
    ([0.05, -0.1, 0.15, 0.19], [1.0, -2.0, -1.0, 3.0],
     "inside the window [V_old - eps, V_old + eps], V_clip = V: both errors are equal, the loss is (V - R)^2 "
     "and nothing counts as clipped"),
    ([0.5, 0.9, -0.6, -1.5], [1.0, 3.0, -1.0, -4.0],
     "V moved past the window TOWARDS its target: the clipped error (V_clip - R)^2 is the larger and is kept "
     "(the pessimistic max), and the token counts as clipped"),
    ([0.5, 0.9, -0.6, -1.5], [-1.0, -3.0, 1.0, 4.0],
     "V moved past the window AWAY from its target: the unclipped error (V - R)^2 is the larger and is kept "
     "-- keep the max of the two errors, do not just use the clipped one"),
]


@check("the three regimes: inside the window, past it towards the target, past it away from it (both sides of V_old)",
       points=2)
def clipped_regimes(run):
    for values, returns, rule in REGIMES:
        values, returns = torch.tensor(values), torch.tensor(returns)
        want_loss, want_frac, _ = oracle(values, returns, torch.zeros(4), 0.2)
        loss, frac = loss_and_frac(run(V.cvloss, values, torch.zeros(4), returns, 0.2))
        what = f"(V {fmt(values)}, V_old 0, R {fmt(returns)}, eps 0.2)"
        expect_close(loss, want_loss, rule, what=f"loss {what}")
        expect_close(frac, want_frac, rule, what=f"clip_frac {what}")


@check("the clip window is centred on old_values and measured in value units (not on the returns, not a ratio)",
       points=2)
def clip_window(run):
    # V_old around 5-10, returns far away: a window around the returns, or a ratio window
    # V_old * [1 - eps, 1 + eps], or clamp(V, 1 - eps, 1 + eps), all give other losses
    old = torch.tensor([5.0, 10.0, -8.0, 6.0, 2.0])
    values = torch.tensor([5.6, 10.1, -9.0, 5.9, 2.5])
    returns = torch.tensor([8.0, 12.0, -12.0, 4.0, -1.0])
    for eps in (0.2, 0.5):
        want_loss, want_frac, _ = oracle(values, returns, old, eps)
        loss, frac = loss_and_frac(run(V.cvloss, values, old, returns, eps))
        rule = (f"V_clip = clamp(V, V_old - eps, V_old + eps): a window of +-{eps} value units around the old "
                "prediction V_old (TRL's cliprange_value), not around the returns and not a relative window")
        expect_close(loss, want_loss, rule, what=f"loss (V_old {fmt(old)}, eps {eps})")
        expect_close(frac, want_frac, rule, what=f"clip_frac (V_old {fmt(old)}, eps {eps})")


@check("clip_frac compares strictly: tokens inside the window (equal errors) never count as clipped")
def clip_frac_strict(run):
    values, old, returns = value_inputs(20, (3, 6), spread=0.05)
    values = old + torch.clamp(values - old, -0.15, 0.15)    # every V inside the 0.2 window
    values[0, :3] = old[0, :3]                                 # some exactly at V_old
    loss, frac = loss_and_frac(run(V.cvloss, values, old, returns, 0.2))
    expect_close(frac, 0.0, "inside the window V_clip = V and the two errors are EQUAL: clip_frac counts only "
                 "tokens where the clipped error is strictly greater (>, not >=)",
                 what="clip_frac (every V inside the window)")
    expect_close(loss, oracle(values, returns)[0], "inside the window the clipped loss equals the plain value loss",
                 what="loss (every V inside the window)")


@check("clip_frac is a 0-dim tensor in [0, 1] that carries no gradient")
def clip_frac_form(run):
    values, old, returns = value_inputs(21, (4, 5), spread=0.5)
    got = run(V.cvloss, values, old, returns, 0.2, None, grad=True)
    loss, frac = loss_and_frac(got)
    expect_clipped((loss, frac), values, old, returns, 0.2, None, "(4 x 5 random positions)")
    expect_tensor(loss, "the loss is a 0-dim tensor", shape=())
    frac = expect_tensor(frac, "clip_frac is a 0-dim float tensor (a fraction, like TRL's vf_clipfrac)", shape=())
    expect(frac.is_floating_point(), "clip_frac is a float tensor (convert the boolean comparison before averaging)",
           f"your clip_frac has dtype {frac.dtype}")
    expect(got["clip_frac_requires_grad"] is False, "clip_frac is a statistic for logging: it carries no gradient",
           f"your clip_frac has requires_grad={got['clip_frac_requires_grad']}")


@check("the gradient is (V - R) / N where the unclipped error is kept, 0 where the clipped one is or masked", points=2)
def clipped_gradient(run):
    for seed, eps in ((30, 0.2), (31, 0.1)):
        values, old, returns = value_inputs(seed, (3, 8), torch.float64, spread=0.4)
        mask = random_mask(torch.Generator().manual_seed(200 + seed), 3, 8)
        returns = fill_padding(returns, mask, 1e6)           # finite garbage: its gradient must be 0
        _, _, want = oracle(values, returns, old, eps, mask)
        got = run(V.cvloss, values, old, returns, eps, mask, grad=True)
        loss_and_frac(got)
        expect_differentiable(got, "clipped_value_loss")
        expect_close(got["grad"], want, "d loss / d V = (V - R) / N where the unclipped error is kept (inside the "
                     "window V_clip = V, so the gradient flows through it fully: do not detach V_clip); 0 where the "
                     "clipped error wins (it is constant in V) and at masked positions",
                     rtol=1e-7, atol=1e-12, what=f"gradient w.r.t. values (seed {seed}, eps {eps})")


@check("clipped_value_loss: mask=None (or no mask) means every position; clip_eps defaults to 0.2")
def clipped_defaults(run):
    # compared with your own result for an all-True mask and an explicit clip_eps = 0.2, so that this
    # check judges the defaults only (the values themselves are judged by the other checks)
    values, old, returns = value_inputs(40, (3, 5), spread=0.4)
    explicit = loss_and_frac(run(V.cvloss, values, old, returns, 0.2, torch.ones(3, 5, dtype=torch.bool)))
    expect_clipped(explicit, values, old, returns, 0.2, None, "with clip_eps=0.2 and an all-True mask")
    got = loss_and_frac(run(V.cvloss, values, old, returns, 0.2, None))
    expect_close(list(got), list(explicit), "mask=None means every position counts, as an all-True mask does",
                 what="(loss, clip_frac) with mask=None vs with an all-True mask")
    got = loss_and_frac(run(V.cvloss, values, old, returns, None, None, pass_mask=False))
    expect_close(list(got), list(explicit), "called as clipped_value_loss(values, old_values, returns): "
                 "clip_eps = 0.2 and every position counts",
                 what="(loss, clip_frac) with the defaults vs with clip_eps=0.2 and an all-True mask")


@check("a huge clip_eps gives the plain value loss; clip_eps = 0 pins V_clip to V_old")
def clipped_limits(run):
    values, old, returns = value_inputs(41, (4, 5), spread=0.5)
    loss, frac = loss_and_frac(run(V.cvloss, values, old, returns, 1e6))
    expect_close(loss, oracle(values, returns)[0], "with an unbounded window nothing is clipped: the clipped loss is "
                 "0.5 * mean((V - R)^2)", what="loss (clip_eps 1e6)")
    expect_close(frac, 0.0, "with an unbounded window nothing is clipped", what="clip_frac (clip_eps 1e6)")
    want_loss, want_frac, _ = oracle(values, returns, old, 0.0)
    loss, frac = loss_and_frac(run(V.cvloss, values, old, returns, 0.0))
    expect_close(loss, want_loss, "with clip_eps = 0, V_clip = V_old: loss = 0.5 * mean(max((V - R)^2, (V_old - R)^2))",
                 what="loss (clip_eps 0)")
    expect_close(frac, want_frac, FRAC_RULE + " (clip_eps 0)", what="clip_frac (clip_eps 0)")


@check("clipped_value_loss works on any shape: 1-D and 3-D inputs with a mask of the same shape")
def clipped_any_shape(run):
    values, old, returns = value_inputs(42, (7,), spread=0.4)
    mask = torch.tensor([True, False, True, True, False, True, True])
    want_loss, want_frac, _ = oracle(values, returns, old, 0.2, mask)
    loss, frac = loss_and_frac(run(V.cvloss, values, old, returns, 0.2, mask))
    expect_close(loss, want_loss, LOSS_RULE + " (1-D input)", what="loss (shape [7])")
    expect_close(frac, want_frac, FRAC_RULE + " (1-D input)", what="clip_frac (shape [7])")
    values, old, returns = value_inputs(43, (2, 3, 4), spread=0.4)
    mask = torch.rand(2, 3, 4, generator=torch.Generator().manual_seed(43)) < 0.6
    want_loss, want_frac, _ = oracle(values, returns, old, 0.2, mask)
    loss, frac = loss_and_frac(run(V.cvloss, values, old, returns, 0.2, mask))
    expect_close(loss, want_loss, LOSS_RULE + " (3-D input, any mask pattern)", what="loss (shape [2, 3, 4])")
    expect_close(frac, want_frac, FRAC_RULE + " (3-D input, any mask pattern)", what="clip_frac (shape [2, 3, 4])")


# --------------------------------------------------------------------------------------------
# Both
# --------------------------------------------------------------------------------------------

@check("padding never counts: huge, inf and NaN values at masked positions change neither loss", points=2)
def padding(run):
    why = " (0 * inf and 0 * NaN are NaN, so x * mask lets them through; select with x[mask] or torch.where)"
    for seed, garbage in ((50, "huge"), (51, "nonfinite")):
        values, old, returns = value_inputs(seed, (4, 6), spread=0.4)
        g = torch.Generator().manual_seed(seed)
        mask = random_mask(g, 4, 6)
        signs = (torch.randint(0, 2, (4, 6), generator=g) * 2 - 1).float()
        if garbage == "huge":
            bad_v, bad_old, bad_r = 1e6 * signs, -1e6 * signs, 3e5 * signs
        else:
            bad_v, bad_old, bad_r = math.nan, math.inf, -math.inf
        what = "with padding = +-1e6" if garbage == "huge" else "with NaN/inf padding"
        extra = "" if garbage == "huge" else why
        clean = run(V.vloss, values, returns, mask)["loss"]
        expect_close(clean, oracle(values, returns, mask=mask)[0], PLAIN_RULE, what="value_loss with ordinary padding")
        got = run(V.vloss, fill_padding(values, mask, bad_v), fill_padding(returns, mask, bad_r), mask)
        expect_close(got["loss"], clean, padding_rule("value_loss") + extra,
                     what=f"value_loss {what} vs with ordinary padding")
        clean = loss_and_frac(run(V.cvloss, values, old, returns, 0.2, mask))
        expect_clipped(clean, values, old, returns, 0.2, mask, "with ordinary padding")
        got = loss_and_frac(run(V.cvloss, fill_padding(values, mask, bad_v), fill_padding(old, mask, bad_old),
                                fill_padding(returns, mask, bad_r), 0.2, mask))
        expect_close(got[0], clean[0], padding_rule("clipped_value_loss") + extra,
                     what=f"loss {what} vs with ordinary padding")
        expect_close(got[1], clean[1], padding_rule("clipped_value_loss") + extra,
                     what=f"clip_frac {what} vs with ordinary padding")


def expect_float64(got, want, fn, what):
    """``got`` is float64 and as accurate as float64 allows."""
    t = expect_tensor(got, f"{fn} returns a tensor")
    expect(t.dtype == torch.float64, f"{fn} keeps the inputs' dtype: float64 in, float64 out",
           f"{what}: expected dtype torch.float64, your code produced {t.dtype}")
    expect_close(t, want, f"{fn} computes the right values in float64 when given float64 (no detour through "
                 "float32)", rtol=1e-10, atol=1e-12, what=what)


def expect_clipped(got, values, old, returns, clip_eps, mask, what):
    """(loss, clip_frac) are right: a check about one rule (defaults, padding) also needs the values."""
    want_loss, want_frac, _ = oracle(values, returns, old, clip_eps, mask)
    expect_close(got[0], want_loss, LOSS_RULE, what=f"loss {what}")
    expect_close(got[1], want_frac, FRAC_RULE, what=f"clip_frac {what}")


@check("both losses keep float64 (and compute in it)")
def keeps_float64(run):
    values, old, returns = value_inputs(60, (3, 4), torch.float64, spread=0.4)
    mask = random_mask(torch.Generator().manual_seed(60), 3, 4)
    expect_float64(run(V.vloss, values, returns, mask)["loss"], oracle(values, returns, mask=mask)[0],
                   "value_loss", "loss")
    want_loss, _, _ = oracle(values, returns, old, 0.2, mask)
    loss, _ = loss_and_frac(run(V.cvloss, values, old, returns, 0.2, mask))
    expect_float64(loss, want_loss, "clipped_value_loss", "loss")


@check("neither function modifies its inputs in place")
def inputs_untouched(run):
    def same(after, before, names, fn):
        for a, b, name in zip(after, before, names):
            if b is None:
                continue
            if not (isinstance(a, torch.Tensor) and a.shape == b.shape and torch.equal(a, b)):
                raise Fail(f"{fn} must not modify its inputs in place (e.g. values[~mask] = 0 or masked_fill_): "
                           "work on new tensors", f"argument {name} was changed by the call")

    values, old, returns = value_inputs(70, (3, 5), spread=0.4)
    mask = prefix_mask([2, 5, 4], 5)
    values, old, returns = (fill_padding(x, mask, 5.0) for x in (values, old, returns))
    got = run(V.vloss, values, returns, mask)
    expect_close(got["loss"], oracle(values, returns, mask=mask)[0], PLAIN_RULE, what="value_loss")
    same(got["inputs_after"], [values, returns, mask], ["values", "returns", "mask"], "value_loss")
    got = run(V.cvloss, values, old, returns, 0.2, mask)
    expect_clipped(loss_and_frac(got), values, old, returns, 0.2, mask, "of clipped_value_loss")
    same(got["inputs_after"], [values, old, returns, mask], ["values", "old_values", "returns", "mask"],
         "clipped_value_loss")
