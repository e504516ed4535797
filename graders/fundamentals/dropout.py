"""Hidden graders of fundamentals/dropout: the semantics of torch.nn.functional.dropout and
torch.nn.Dropout, checked exactly where they are deterministic (eval mode, p = 0 and 1, the
value of every kept element, dtypes, gradients) and statistically where they are random (the
drop rate, E[output] = x, independence across elements and across calls), with bounds that a
correct implementation misses less than once in 10^6 runs (mlkata.checks.Z_STRICT)."""
import math

import torch

from mlkata.checks import Z_STRICT, Fail, check, expect, expect_close, expect_equal, expect_rate, probe, visible_module

V = visible_module("fundamentals/dropout")


def positive(shape, seed, dtype=torch.float32):
    """Values in [0.1, 2.1) with random signs: no zeros, so out == 0 means 'dropped'."""
    g = torch.Generator().manual_seed(seed)
    sign = torch.randint(0, 2, shape, generator=g) * 2 - 1
    return ((torch.rand(shape, generator=g) * 2 + 0.1) * sign).to(dtype)


BIG = positive((100, 400), 0)            # 40k elements: n * p >= 4000 for every p below


@check("drops each element with probability p (rates for p = 0.1, 0.5, 0.8 over 40k elements)", points=2)
def drop_rate(run):
    for i, p in enumerate((0.1, 0.5, 0.8)):
        out = V.output(run(V.drop, BIG, p, seed=100 + i)["out"], BIG, f"p={p}")
        expect_rate(int((out == 0).sum()), out.numel(), p,
                    "each element is dropped (set to 0) with probability p -- and kept with probability 1 - p",
                    what=f"share of elements dropped with p={p}:")


@check("kept elements are scaled by exactly 1 / (1 - p) (p = 0.1, 0.3, 0.75, 0.9)", points=2)
def survivors_scaled(run):
    x = positive((50, 40), 1)
    for i, p in enumerate((0.1, 0.3, 0.75, 0.9)):
        out = V.output(run(V.drop, x, p, seed=200 + i)["out"], x, f"p={p}")
        V.expect_dropped_and_kept(out, x, p, f"output with p={p}")


@check("E[output] = x: averaged over 10k draws, each value comes back (p = 0.3)")
def unbiased(run):
    p, n = 0.3, 10000
    values = torch.tensor([1.0, -1.0, 0.25, 3.0, -7.5, 100.0, 1e-3, -0.6])
    x = values.repeat(n, 1)                                            # (n, 8): column j holds values[j]
    out = V.output(run(V.drop, x, p, seed=300)["out"], x)
    V.expect_dropped_and_kept(out, x, p, f"output with p={p}")
    mean = out.double().mean(0)
    bound = Z_STRICT * values.double().abs() * math.sqrt(p / ((1 - p) * n))
    bad = (mean - values.double()).abs() > bound
    if bad.any():
        j = int(bad.nonzero()[0])
        raise Fail("inverted dropout keeps the expected value: E[output] = (1 - p) * x / (1 - p) = x",
                   f"the mean output over {n} draws for x = {values[j].item():g} is {mean[j].item():.6g} "
                   f"(a correct implementation lands within +-{bound[j].item():.3g} of it)")


@check("each element is dropped independently: no mask shared along any dimension (batch, channel, row)", points=2)
def independent_elements(run):
    x = positive((32, 16, 8, 8), 2)                                    # 32768 elements
    p = 0.5
    out = V.output(run(V.drop, x, p, seed=400)["out"], x)
    dropped = out == 0
    for d, name in enumerate(("batch", "channel", "height", "width")):
        a = dropped.narrow(d, 0, x.shape[d] // 2)                       # disjoint pairs (i, i + half) along d
        b = dropped.narrow(d, x.shape[d] // 2, x.shape[d] // 2)
        expect_rate(int((a & b).sum()), a.numel(), p * p,
                    "each element draws its own coin: two elements are both dropped with probability p^2 "
                    "(draw the mask with the full shape of x, not one value per row, channel or sample)",
                    what=f"share of element pairs along the {name} dimension (dim {d}) both dropped:")


@check("successive calls draw fresh masks (global generator, or one shared generator)")
def fresh_each_call(run):
    x = positive((200, 100), 3)
    p = 0.3
    same = p * p + (1 - p) * (1 - p)                                  # P(both dropped or both kept)
    for kwargs, how in (({"global_seed": 5}, "without a generator"), ({"seed": 6}, "sharing one generator")):
        a, b = [V.output(o, x, f"call {i + 1} {how}") for i, o in enumerate(run(V.drop_twice, x, p, **kwargs))]
        expect_rate(int(((a == 0) == (b == 0)).sum()), x.numel(), same,
                    "every call draws a new, independent mask (do not re-seed or create a fixed generator inside)",
                    what=f"share of elements with the same fate in two calls {how}:")


@check("with a generator: the same seed repeats the output, another seed does not")
def generator_semantics(run):
    x = positive((100, 100), 4)
    a = run(V.drop, x, 0.4, seed=11, global_seed=1)["out"]
    b = run(V.drop, x, 0.4, seed=11, global_seed=2)["out"]
    c = run(V.drop, x, 0.4, seed=12, global_seed=1)["out"]
    for o in (a, b, c):
        V.output(o, x)
    expect_equal(b, a, "take every random draw from `generator` when one is given, never from the global generator",
                 what="output of a call with the same generator seed (but another global seed)")
    expect(not torch.equal(a, c), "the mask comes from the generator: another seed gives another mask",
           "generators seeded 11 and 12 gave identical outputs")


@probe
def drop_with_defaults(sub, x, seed):
    """``dropout(x, generator=...)`` and ``Dropout()(x)`` in training mode: p (and training) at their defaults."""
    function = sub.dropout(x, generator=torch.Generator().manual_seed(seed))
    torch.manual_seed(seed)
    return {"function": function, "module": sub.Dropout().train()(x)}


@check("the defaults are p = 0.5 and training = True: dropout(x) and Dropout()(x) drop half of x, double the rest")
def defaults(run):
    got = run(drop_with_defaults, BIG, 500)
    for name, what in (("function", "dropout(x)"), ("module", "Dropout()(x) in training mode")):
        out = V.output(got[name], BIG, f"{what} with the defaults")
        V.expect_dropped_and_kept(out, BIG, 0.5, f"{what} with the defaults")
        expect_rate(int((out == 0).sum()), out.numel(), 0.5, "p = 0.5 by default (and dropout's training = True): "
                    "each element is dropped with probability 0.5", what=f"share of elements dropped by {what}:")


@check("eval mode is the identity for every p, 0 and 1 included (and training mode, for the same x, is not)")
def eval_identity(run):
    x = positive((7, 9), 5)
    for p in (0.0, 0.2, 0.9, 1.0):
        got = run(V.drop, x, p, training=False, seed=0)["out"]
        expect_close(V.output(got, x, f"training=False, p={p}"), x,
                     "in eval mode (training=False) dropout returns x unchanged: no dropping and no scaling",
                     rtol=0, atol=0, what=f"output with training=False, p={p}")
    got = run(V.drop, x, 0.2, training=True, seed=0)["out"]
    V.expect_dropped_and_kept(V.output(got, x), x, 0.2, "output with training=True, p=0.2")


@check("p outside [0, 1] raises ValueError (function in both modes, and Dropout(p))")
def invalid_p(run):
    for p, where, training in ((-0.1, "function", True), (1.5, "function", True), (1.5, "function", False),
                               (-0.5, "module", True), (1.01, "module", True)):
        got = run(V.error_for, p, where, training)
        place = f"dropout(x, p={p}, training={training})" if where == "function" else f"Dropout({p})"
        expect(got == "ValueError", "a probability outside [0, 1] raises ValueError, like torch",
               f"{place} " + ("raised nothing" if got is None else f"raised {got}, not ValueError"))


@check("keeps dtype (float16, bfloat16, float64 at full precision) and shape (0-dim, empty, 5-D)")
def dtypes_and_shapes(run):
    for dtype in (torch.float16, torch.bfloat16, torch.float64):
        x = positive((40, 50), 6, dtype)
        out = V.output(run(V.drop, x, 0.25, seed=7)["out"], x, f"{dtype} input")
        kept = out != 0
        want = torch.where(kept, x / 0.75, torch.zeros_like(x))
        if dtype == torch.float64:
            err = float(((out - want).abs() / want.abs().clamp_min(1e-300)).max())
            expect(err < 1e-12, "in float64 the kept elements are x / (1 - p) to float64 precision "
                                "(a float32 mask or scale silently loses digits)",
                   f"largest relative error of the kept elements: {err:.3g} (float64 allows 1e-12)")
        expect_close(out, want, "each element is 0 or x / (1 - p), in x's dtype", rtol=1e-2, atol=0,
                     what=f"output for {dtype}")
        n_zero = int((out == 0).sum())
        expect(0 < n_zero < x.numel(), "each element is dropped with probability p = 0.25: some are, some are not",
               f"output for {dtype}: {n_zero} of {x.numel()} elements are 0")
    for x in (torch.tensor(1.5), torch.empty(0, 3), positive((2, 3, 2, 2, 3), 8)):
        out = V.output(run(V.drop, x, 0.5, seed=9)["out"], x, f"input of shape {list(x.shape)}")
        V.expect_zero_or_scaled(out, x, 0.5, f"output for an input of shape {list(x.shape)}")


@check("the gradient w.r.t. x is mask / (1 - p): upstream gradient through kept elements only")
def gradient(run):
    x = positive((30, 20), 10)
    upstream = torch.randn(30, 20, generator=torch.Generator().manual_seed(10))
    for p in (0.2, 0.6):
        got = run(V.drop, x, p, seed=12, upstream=upstream)
        out = V.output(got["out"], x)
        if isinstance(got["grad"], str):
            raise Fail("the output is differentiable w.r.t. x (build it from x with tensor operations)", got["grad"])
        want = torch.where(out != 0, upstream / (1 - p), torch.zeros_like(x))
        expect_close(got["grad"], want, "d out / d x is 1 / (1 - p) where an element is kept and 0 where it is dropped",
                     what=f"x.grad after out.backward(upstream), p={p}")


@check("stays finite: p=1 and p=0.999 on inputs around 1e30 (zeros, and x * 1000)")
def extremes(run):
    x = positive((100, 100), 11) * 1e30
    got = V.output(run(V.drop, x, 1.0, seed=13)["out"], x, "p=1")
    expect_equal(got, torch.zeros_like(x), "with p=1 the output is exactly zero, never NaN", what="output with p=1")
    got = V.output(run(V.drop, x, 0.999, seed=14)["out"], x, "p=0.999")
    expect(bool(got.isfinite().all()), "kept elements are x / (1 - p): finite for finite x",
           f"{int((~got.isfinite()).sum())} of {got.numel()} outputs are not finite")
    V.expect_zero_or_scaled(got, x, 0.999, "output with p=0.999")
    got = V.output(run(V.drop, x, 0.0, seed=15)["out"], x, "p=0")
    expect_close(got, x, "with p=0 the output equals x", rtol=1e-6, atol=0, what="output with p=0")


@check("Dropout(p) is an nn.Module without parameters: drops in train mode, identity after .eval(), "
       "drops again after .train()", points=2)
def module(run):
    p = 0.3
    got = run(V.module, BIG, p, ["train", "eval", "train"])
    expect(got["is_module"] is True, "Dropout subclasses torch.nn.Module", "Dropout(p) is not an nn.Module")
    expect_close(got["p"], p, "Dropout(p) stores the probability as self.p", what="module.p")
    expect(got["params"] == [], "dropout has no learnable parameters", f"named_parameters(): {got['params']}")
    first, evaluated, again = [V.output(o, BIG, f"module output {i + 1}") for i, o in enumerate(got["outs"])]
    rule = "in training mode (the default) Dropout drops each element with probability p"
    expect_rate(int((first == 0).sum()), BIG.numel(), p, rule, what="share dropped by a new Dropout(0.3):")
    V.expect_zero_or_scaled(first, BIG, p, "module output in training mode")
    expect_close(evaluated, BIG, "after module.eval() the module is the identity (read self.training)",
                 rtol=0, atol=0, what="module output after .eval()")
    expect_rate(int((again == 0).sum()), BIG.numel(), p, "after module.train() the module drops again",
                what="share dropped after .train():")
    expect_equal(got["x_after"], BIG, "the module does not modify its input", what="input after the calls")
