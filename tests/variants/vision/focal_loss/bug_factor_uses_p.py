# BUG: the focal factor uses (1 - p) for every element, which is (1 - p_t) only for positives.
from typing import Optional

import torch
import torch.nn.functional as F


def sigmoid_focal_loss(logits: torch.Tensor, targets: torch.Tensor, alpha: float = 0.25, gamma: float = 2.0,
                       reduction: str = "none") -> torch.Tensor:
    """RetinaNet's focal loss on independent sigmoid outputs, as ``torchvision.ops.sigmoid_focal_loss``.

    Args:
        logits: float tensor of any shape.
        targets: float tensor of the same shape, values in ``[0, 1]`` (1 = positive).
        alpha: the positives' weight in ``[0, 1]``; negatives get ``1 - alpha``; ``alpha < 0`` means no weighting.
        gamma: the focusing exponent ``>= 0``.
        reduction: ``"none"`` (the loss of every element, the logits' shape), ``"mean"`` or ``"sum"``
            over all elements; anything else raises ``ValueError``.

    Returns:
        a tensor of the logits' dtype, differentiable w.r.t. ``logits``, finite for any finite logits.
    """
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"reduction must be 'none', 'mean' or 'sum', not {reduction!r}")
    p = torch.sigmoid(logits)
    # BCE with logits, stably: -t log sigmoid(x) - (1 - t) log sigmoid(-x)
    ce = -(targets * F.logsigmoid(logits) + (1 - targets) * F.logsigmoid(-logits))
    p_t = p * targets + (1 - p) * (1 - targets)
    loss = ce * (1 - p) ** gamma
    if alpha >= 0:
        loss = loss * (alpha * targets + (1 - alpha) * (1 - targets))
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def softmax_focal_loss(logits: torch.Tensor, target: torch.Tensor, gamma: float = 2.0,
                       alpha: Optional[torch.Tensor] = None, ignore_index: int = -100) -> torch.Tensor:
    """The multi-class focal loss, averaged over the counted examples.

    Args:
        logits: float ``(N, C)``.
        target: int64 ``(N,)``; examples whose target is ``ignore_index`` count nowhere (at least one counts).
        gamma: the focusing exponent ``>= 0``.
        alpha: optional float ``(C,)`` per-class weights (None: all 1).

    Returns:
        a 0-dim tensor, ``mean_i -alpha[y_i] (1 - p_i)^gamma log p_i`` over the counted examples, with
        ``p_i = softmax(logits_i)[y_i]`` and the mean dividing by their NUMBER (not by a sum of alphas).
        Differentiable w.r.t. ``logits``, finite for any finite logits.
    """
    counted = target != ignore_index
    logits, target = logits[counted], target[counted]
    log_p = torch.log_softmax(logits, dim=-1).gather(1, target[:, None]).squeeze(1)   # (n,) log p_t
    loss = -(1 - log_p.exp()) ** gamma * log_p
    if alpha is not None:
        loss = loss * alpha.to(loss.dtype)[target]
    return loss.mean()
