# BUG: measures decay progress as step / total_steps, ignoring that the decay starts after warmup.
"""Learning-rate schedules: linear warmup, then cosine or linear decay.

Transformers are almost never trained at a constant learning rate.  At the start Adam's second
moment estimates are poor and the weights are random, so large steps can diverge: a *warmup*
raises the rate linearly from 0 to its peak over the first ``warmup_steps`` steps.  Afterwards
the rate *decays* so that the final steps make small, careful updates -- along a half cosine
(the most common choice, from SGDR, Loshchilov & Hutter 2017) or a straight line (BERT).

A schedule here is a *multiplier* of the peak learning rate: a function of the step number that
``torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: f(step, ...))`` can use directly,
as Hugging Face ``transformers`` does in ``get_cosine_schedule_with_warmup``,
``get_cosine_with_min_lr_schedule_with_warmup`` (``min_lr_rate``) and
``get_linear_schedule_with_warmup``.  With ``w = warmup_steps`` and ``T = total_steps``:

    warmup (step < w):  step / w                                   (0 at step 0, never reaches 1)
    progress:           p = min(1, (step - w) / max(1, T - w))
    cosine:             r + (1 - r) * 0.5 * (1 + cos(2 * pi * num_cycles * p))     r = min_lr_ratio
    linear:             max(0, (T - step) / max(1, T - w))

With the default ``num_cycles = 0.5`` the cosine is half a period: from 1 at the end of warmup
down to ``min_lr_ratio`` at step ``T``.  Past ``T`` both schedules hold their final value (the
``min(1, ...)`` above); ``transformers``' cosine lambda instead keeps following the cosine, so the
rate would climb back up if training ran past ``total_steps``.
"""
import math


def cosine_with_warmup(step: int, *, warmup_steps: int, total_steps: int, num_cycles: float = 0.5,
                       min_lr_ratio: float = 0.0) -> float:
    """The multiplier of the peak learning rate at ``step``: linear warmup, then cosine decay.

    Args:
        step: the optimizer step, an int ``>= 0`` (may exceed ``total_steps``).
        warmup_steps: length of the linear warmup, ``0 <= warmup_steps <= total_steps``.
        total_steps: the step at which the decay ends.
        num_cycles: periods of the cosine over the decay (0.5: one half period, 1 -> r).
        min_lr_ratio: the floor ``r`` in ``[0, 1]``: the decay goes from 1 down to ``r`` (the
            cosine is rescaled onto ``[r, 1]``, not clipped).  The warmup still starts at 0.

    Returns:
        a Python float.

    Raises:
        ValueError: if ``step < 0``, ``warmup_steps < 0``, ``total_steps < warmup_steps`` or
            ``min_lr_ratio`` is outside ``[0, 1]``.
    """
    if step < 0 or warmup_steps < 0 or total_steps < warmup_steps or not 0.0 <= min_lr_ratio <= 1.0:
        raise ValueError(f"need 0 <= step, 0 <= warmup_steps <= total_steps and 0 <= min_lr_ratio <= 1, got "
                         f"{step=}, {warmup_steps=}, {total_steps=}, {min_lr_ratio=}")
    if step < warmup_steps:
        return step / warmup_steps
    progress = min(1.0, step / total_steps)
    cosine = 0.5 * (1.0 + math.cos(2.0 * math.pi * num_cycles * progress))
    return min_lr_ratio + (1.0 - min_lr_ratio) * cosine


def linear_with_warmup(step: int, *, warmup_steps: int, total_steps: int) -> float:
    """The multiplier of the peak learning rate at ``step``: linear warmup, then linear decay to 0.

    Args:
        step: the optimizer step, an int ``>= 0`` (may exceed ``total_steps``: the multiplier is 0).
        warmup_steps: length of the linear warmup, ``0 <= warmup_steps <= total_steps``.
        total_steps: the step at which the multiplier reaches 0.

    Returns:
        a Python float, never negative.

    Raises:
        ValueError: if ``step < 0``, ``warmup_steps < 0`` or ``total_steps < warmup_steps``.
    """
    if step < 0 or warmup_steps < 0 or total_steps < warmup_steps:
        raise ValueError(f"need 0 <= step and 0 <= warmup_steps <= total_steps, got "
                         f"{step=}, {warmup_steps=}, {total_steps=}")
    if step < warmup_steps:
        return step / warmup_steps
    return max(0.0, 1.0 - step / total_steps)

