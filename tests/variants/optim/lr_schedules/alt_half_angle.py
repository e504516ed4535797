# CORRECT, written differently: the half-angle identity (1 + cos 2x) / 2 = cos(x)^2, a clamped
# "decay fraction" shared by both schedules, and an explicit phase table instead of early returns.
import math


def _check(step, warmup_steps, total_steps, min_lr_ratio=0.0):
    if min(step, warmup_steps) < 0 or total_steps < warmup_steps or not (0 <= min_lr_ratio <= 1):
        raise ValueError("bad schedule arguments")


def _decay_fraction(step, warmup_steps, total_steps):
    """How far through the decay phase we are, clamped to [0, 1]."""
    length = max(total_steps - warmup_steps, 1)
    return max(0.0, min(1.0, (step - warmup_steps) / length))


def cosine_with_warmup(step, *, warmup_steps, total_steps, num_cycles=0.5, min_lr_ratio=0.0):
    _check(step, warmup_steps, total_steps, min_lr_ratio)
    in_warmup = step < warmup_steps
    frac = _decay_fraction(step, warmup_steps, total_steps)
    decayed = min_lr_ratio + (1 - min_lr_ratio) * math.cos(math.pi * num_cycles * frac) ** 2
    return float(step) / warmup_steps if in_warmup else decayed


def linear_with_warmup(step, *, warmup_steps, total_steps):
    _check(step, warmup_steps, total_steps)
    if step < warmup_steps:
        return float(step) / warmup_steps
    if total_steps == warmup_steps:          # (T - step) / max(1, 0) is <= 0 from step T on
        return 0.0
    return 1.0 - _decay_fraction(step, warmup_steps, total_steps)
