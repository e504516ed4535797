"""Visible checks: the warmup ramp, the peak, the middle and the end of the cosine and linear decays,
and the min_lr_ratio floor -- with warmup_steps = 10 and total_steps = 110."""
import math

from mlkata.checks import check, expect_close, probe


@probe
def values(sub, name, steps, kwargs):
    """The schedule ``name`` evaluated at every step in ``steps``."""
    fn = getattr(sub, name)
    return [fn(s, **kwargs) for s in steps]


@probe
def raises(sub, name, step, kwargs):
    """The name of the exception the schedule raises at ``step`` (None if it returns)."""
    try:
        getattr(sub, name)(step, **kwargs)
    except NotImplementedError:
        raise
    except Exception as e:  # noqa: BLE001 - the check reports which exception
        return type(e).__name__
    return None


W = {"warmup_steps": 10, "total_steps": 110}


@check("warmup rises linearly from 0: step / warmup_steps")
def warmup_ramp(run):
    for name in ("cosine_with_warmup", "linear_with_warmup"):
        got = run(values, name, [0, 1, 5, 9], W)
        expect_close(got, [0.0, 0.1, 0.5, 0.9], "during warmup (step < warmup_steps) the multiplier is "
                     "step / warmup_steps, starting at 0", atol=1e-12, rtol=0,
                     what=f"{name} at steps 0, 1, 5, 9 (warmup_steps=10)")


@check("the multiplier peaks at 1.0 when warmup ends, then decays (a quarter of the way: 0.854 / 0.75)")
def peak(run):
    # step 35 is a quarter of the decay (25 of 100 steps): cosine 0.5 * (1 + cos(pi / 4)), linear 75 / 100
    for name, after in (("cosine_with_warmup", 0.5 * (1 + math.cos(math.pi / 4))), ("linear_with_warmup", 0.75)):
        got = run(values, name, [10, 35], W)
        expect_close(got, [1.0, after], "at step == warmup_steps the decay starts from 1", atol=1e-12, rtol=0,
                     what=f"{name} at steps 10 and 35 (warmup_steps=10, total_steps=110)")


@check("cosine: 0.5 halfway through the decay and 0 at total_steps")
def cosine_decay(run):
    got = run(values, "cosine_with_warmup", [35, 60, 110], W)
    expect_close(got, [0.5 * (1 + 0.5 ** 0.5), 0.5, 0.0], "after warmup: 0.5 * (1 + cos(pi * progress)), "
                 "progress = (step - warmup_steps) / (total_steps - warmup_steps)", atol=1e-12, rtol=0,
                 what="cosine_with_warmup at steps 35, 60, 110")


@check("linear: 0.5 halfway through the decay and 0 at total_steps")
def linear_decay(run):
    got = run(values, "linear_with_warmup", [35, 60, 110], W)
    expect_close(got, [0.75, 0.5, 0.0], "after warmup: (total_steps - step) / (total_steps - warmup_steps)",
                 atol=1e-12, rtol=0, what="linear_with_warmup at steps 35, 60, 110")


@check("min_lr_ratio rescales the cosine onto [min_lr_ratio, 1]")
def min_ratio(run):
    got = run(values, "cosine_with_warmup", [10, 60, 110], {**W, "min_lr_ratio": 0.1})
    expect_close(got, [1.0, 0.55, 0.1], "r + (1 - r) * cosine: 1 at the end of warmup, (1 + r) / 2 halfway, "
                 "r at total_steps", atol=1e-12, rtol=0, what="cosine_with_warmup(min_lr_ratio=0.1) at steps 10, 60, 110")
