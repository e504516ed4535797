# BUG: zeroes the ignored examples' losses but still counts them in the mean's denominator.
from typing import Optional

import torch


def smoothed_targets(target: torch.Tensor, num_classes: int, smoothing: float) -> torch.Tensor:
    """The smoothed target distribution of each example.

    Args:
        target: int64 ``(N,)`` class indices in ``[0, num_classes)``.
        num_classes: ``C``.
        smoothing: ``eps`` in ``[0, 1]``.

    Returns:
        float32 ``(N, C)``: ``1 - eps + eps / C`` at the target class, ``eps / C`` elsewhere (each row sums to 1).
    """
    q = torch.full((target.shape[0], num_classes), smoothing / num_classes)     # (N, C)
    q[torch.arange(target.shape[0]), target] += 1 - smoothing
    return q


def label_smoothing_cross_entropy(logits: torch.Tensor, target: torch.Tensor, smoothing: float = 0.1,
                                  weight: Optional[torch.Tensor] = None, ignore_index: int = -100,
                                  reduction: str = "mean") -> torch.Tensor:
    """``F.cross_entropy(logits, target, weight, ignore_index=..., reduction=..., label_smoothing=smoothing)``.

    Args:
        logits: float ``(N, C)``.
        target: int64 ``(N,)``; ``ignore_index`` marks examples that count nowhere.
        smoothing: ``eps`` in ``[0, 1]`` (0 gives the ordinary cross-entropy).
        weight: optional float ``(C,)``, the weight of each class (None: all 1).
        ignore_index: the target value of ignored examples.
        reduction: ``"none"`` -- ``(N,)`` per-example losses, 0 for ignored examples;
            ``"sum"`` -- their sum; ``"mean"`` -- their sum divided by ``sum_i w[y_i]`` over the counted
            examples (their number when ``weight`` is None).

    Returns:
        a tensor of the logits' dtype (``(N,)`` or 0-dim), differentiable w.r.t. ``logits``, finite for
        any finite logits.  Anything but the three reductions raises ``ValueError``.
    """
    if reduction not in ("none", "sum", "mean"):
        raise ValueError(f"reduction must be 'none', 'sum' or 'mean', not {reduction!r}")
    N, C = logits.shape
    w = torch.ones(C, dtype=logits.dtype) if weight is None else weight.to(logits.dtype)
    counted = target != ignore_index                                       # (N,)
    safe = target.masked_fill(~counted, 0)                                 # any valid class where ignored
    logp = torch.log_softmax(logits, dim=-1)                               # (N, C)
    nll = -logp.gather(1, safe[:, None]).squeeze(1) * w[safe]              # (N,) weighted -log p_y
    uniform = -(logp * w).sum(dim=1)                                       # (N,) sum_c w_c (-log p_c)
    per_example = (1 - smoothing) * nll + (smoothing / C) * uniform
    per_example = torch.where(counted, per_example, torch.zeros_like(per_example))
    if reduction == "none":
        return per_example
    if reduction == "sum":
        return per_example.sum()
    return per_example.sum() / w[safe].sum()
