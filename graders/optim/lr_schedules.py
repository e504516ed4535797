"""Hidden graders of optim/lr_schedules: both schedules against the grader's own formula (written
with math, independently of the reference; tests/test_twins_optim_lr_schedules.py checks it and the
reference against transformers' schedulers) on a grid of settings, then the edge cases: step 0,
no warmup, the last step, beyond total_steps, warmup_steps == total_steps, huge step counts,
invalid arguments."""
import math

from mlkata.checks import check, expect, expect_close, visible_module

V = visible_module("optim/lr_schedules")


def want_cosine(step, warmup_steps, total_steps, num_cycles=0.5, min_lr_ratio=0.0):
    """Warmup ramp, then r + (1 - r) * cos^2(pi * num_cycles * p) (= r + (1 - r) * (1 + cos 2 pi n p) / 2)."""
    if step < warmup_steps:
        return step / warmup_steps
    span = total_steps - warmup_steps if total_steps > warmup_steps else 1
    p = min(step - warmup_steps, span) / span
    return min_lr_ratio + (1 - min_lr_ratio) * math.cos(math.pi * num_cycles * p) ** 2


def want_linear(step, warmup_steps, total_steps):
    """Warmup ramp, then 1 - (step - w) / (T - w), floored at 0 (T == w: 0 from step T on)."""
    if step < warmup_steps:
        return step / warmup_steps
    if total_steps == warmup_steps:
        return 0.0
    return max(0.0, 1 - (step - warmup_steps) / (total_steps - warmup_steps))


COSINE = [dict(warmup_steps=0, total_steps=50), dict(warmup_steps=7, total_steps=40),
          dict(warmup_steps=100, total_steps=1000, min_lr_ratio=0.1),
          dict(warmup_steps=3, total_steps=30, num_cycles=1.0), dict(warmup_steps=5, total_steps=45, num_cycles=0.25),
          dict(warmup_steps=4, total_steps=64, num_cycles=1.5, min_lr_ratio=0.3),
          dict(warmup_steps=1, total_steps=2), dict(warmup_steps=0, total_steps=1, min_lr_ratio=1.0)]
LINEAR = [dict(warmup_steps=0, total_steps=50), dict(warmup_steps=7, total_steps=40),
          dict(warmup_steps=100, total_steps=1000), dict(warmup_steps=1, total_steps=2),
          dict(warmup_steps=0, total_steps=1)]


def show(kw):
    return ", ".join(f"{k}={v}" for k, v in kw.items())


@check("cosine_with_warmup matches warmup + r + (1 - r)·½(1 + cos 2π·n·p) at every step (8 settings)", points=2)
def cosine_grid(run):
    for kw in COSINE:
        steps = list(range(kw["total_steps"] + 1))
        got = run(V.values, "cosine_with_warmup", steps, kw)
        want = [want_cosine(s, **kw) for s in steps]
        expect_close(got, want, "warmup: step / warmup_steps; then r + (1 - r) * 0.5 * (1 + cos(2 pi num_cycles p)) "
                     "with p = (step - warmup_steps) / max(1, total_steps - warmup_steps)", rtol=0, atol=1e-9,
                     what=f"cosine_with_warmup by step ({show(kw)})")


@check("linear_with_warmup matches warmup + (T - step) / (T - w) at every step (5 settings)", points=2)
def linear_grid(run):
    for kw in LINEAR:
        steps = list(range(kw["total_steps"] + 1))
        got = run(V.values, "linear_with_warmup", steps, kw)
        expect_close(got, [want_linear(s, **kw) for s in steps], "warmup: step / warmup_steps; then "
                     "(total_steps - step) / max(1, total_steps - warmup_steps)", rtol=0, atol=1e-9,
                     what=f"linear_with_warmup by step ({show(kw)})")


@check("step 0 is 0 with a warmup (the first update uses lr = 0) and 1 without one")
def step_zero(run):
    for name in ("cosine_with_warmup", "linear_with_warmup"):
        got = run(V.values, name, [0], {"warmup_steps": 5, "total_steps": 20})
        expect_close(got, [0.0], "with warmup_steps > 0 the ramp starts at exactly 0", rtol=0, atol=0,
                     what=f"{name}(0, warmup_steps=5)")
        got = run(V.values, name, [0, 1], {"warmup_steps": 0, "total_steps": 20})
        expect_close(got, [1.0, want_linear(1, 0, 20) if name[0] == "l" else want_cosine(1, 0, 20)],
                     "with warmup_steps = 0 there is no ramp: the decay starts at 1 on step 0",
                     rtol=0, atol=1e-12, what=f"{name} at steps 0 and 1 (warmup_steps=0)")


@check("the last step, total_steps, reaches exactly min_lr_ratio (cosine) and 0 (linear)")
def last_step(run):
    for r in (0.0, 0.05, 0.5):
        got = run(V.values, "cosine_with_warmup", [999, 1000], {"warmup_steps": 100, "total_steps": 1000,
                                                                 "min_lr_ratio": r})
        expect_close(got[1], r, "at step == total_steps the half cosine ends at min_lr_ratio", rtol=0, atol=1e-12,
                     what=f"cosine_with_warmup(1000, total_steps=1000, min_lr_ratio={r})")
        expect(got[0] > got[1], "the multiplier is still decreasing just before total_steps",
               f"step 999 gave {got[0]!r}, step 1000 gave {got[1]!r}")
    got = run(V.values, "linear_with_warmup", [999, 1000], {"warmup_steps": 100, "total_steps": 1000})
    expect_close(got, [1 / 900, 0.0], "linear decay reaches 0 at step == total_steps", rtol=0, atol=1e-12,
                 what="linear_with_warmup at steps 999 and 1000 (warmup 100, total 1000)")


@check("beyond total_steps both schedules hold their final value: no negative lr, no climb back up")
def beyond_total(run):
    steps = [101, 150, 250, 10_000]
    got = run(V.values, "cosine_with_warmup", steps, {"warmup_steps": 10, "total_steps": 100, "min_lr_ratio": 0.1})
    expect_close(got, [0.1] * 4, "past total_steps the progress is clamped to 1, so the cosine stays at "
                 "min_lr_ratio (it must not follow the cosine back up)", rtol=0, atol=1e-12,
                 what="cosine_with_warmup at steps 101, 150, 250, 10000 (total_steps=100, min_lr_ratio=0.1)")
    got = run(V.values, "linear_with_warmup", steps, {"warmup_steps": 10, "total_steps": 100})
    expect_close(got, [0.0] * 4, "past total_steps the linear multiplier stays at 0 (never negative)", rtol=0,
                 atol=0, what="linear_with_warmup at steps 101, 150, 250, 10000 (total_steps=100)")


@check("warmup_steps == total_steps: a pure warmup, no division by zero")
def all_warmup(run):
    steps = [0, 4, 9, 10, 11, 50]
    for name, want in (("cosine_with_warmup", want_cosine), ("linear_with_warmup", want_linear)):
        got = run(V.values, name, steps, {"warmup_steps": 10, "total_steps": 10})
        expect_close(got, [want(s, 10, 10) for s in steps], "when warmup_steps == total_steps: the ramp, then a "
                     "decay over max(1, total_steps - warmup_steps) = 1 step, then the final value (never divide by zero)", rtol=0, atol=1e-12,
                     what=f"{name} at steps {steps} (warmup_steps = total_steps = 10)")


@check("accurate over a million steps (warmup 10 000)")
def long_run(run):
    kw = {"warmup_steps": 10_000, "total_steps": 1_000_000}
    steps = [1, 9_999, 10_000, 10_001, 505_000, 999_999, 1_000_000]
    got = run(V.values, "cosine_with_warmup", steps, {**kw, "min_lr_ratio": 0.1})
    expect_close(got, [want_cosine(s, **kw, min_lr_ratio=0.1) for s in steps], "the same formula at any scale",
                 rtol=1e-9, atol=1e-12, what=f"cosine_with_warmup at steps {steps}")
    got = run(V.values, "linear_with_warmup", steps, kw)
    expect_close(got, [want_linear(s, **kw) for s in steps], "the same formula at any scale", rtol=1e-9, atol=1e-12,
                 what=f"linear_with_warmup at steps {steps}")


@check("invalid arguments raise ValueError")
def validation(run):
    cases = [("cosine_with_warmup", -1, {"warmup_steps": 5, "total_steps": 20}),
             ("cosine_with_warmup", 3, {"warmup_steps": -1, "total_steps": 20}),
             ("cosine_with_warmup", 3, {"warmup_steps": 30, "total_steps": 20}),
             ("cosine_with_warmup", 3, {"warmup_steps": 5, "total_steps": 20, "min_lr_ratio": 1.5}),
             ("cosine_with_warmup", 3, {"warmup_steps": 5, "total_steps": 20, "min_lr_ratio": -0.1}),
             ("linear_with_warmup", -2, {"warmup_steps": 5, "total_steps": 20}),
             ("linear_with_warmup", 3, {"warmup_steps": -1, "total_steps": 20}),
             ("linear_with_warmup", 3, {"warmup_steps": 21, "total_steps": 20})]
    for name, step, kw in cases:
        got = run(V.raises, name, step, kw)
        expect(got == "ValueError", "raise ValueError for step < 0, warmup_steps < 0, total_steps < warmup_steps "
               "or min_lr_ratio outside [0, 1]", f"{name}({step}, {show(kw)}) " +
               ("returned normally" if got is None else f"raised {got}"))
