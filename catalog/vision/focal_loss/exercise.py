"""Focal loss: cross-entropy that stops paying for the examples a detector already gets right.

A one-stage detector scores ~100k anchor boxes per image, nearly all background.  With plain
cross-entropy the sea of easy negatives (each with a small loss) outweighs the few objects.  The
focal loss (Lin et al. 2017, "Focal Loss for Dense Object Detection", RetinaNet) multiplies the
cross-entropy of each prediction by ``(1 - p_t)^gamma``, where ``p_t`` is the probability the model
gives to the true answer: a confident right answer (``p_t = 0.99``) is scaled by ``1e-4`` at
``gamma = 2``, a wrong one barely changes.  An extra class weight ``alpha_t`` balances positives
and negatives:

    FL = -alpha_t (1 - p_t)^gamma log(p_t)

For detection the classes are independent sigmoids (``torchvision.ops.sigmoid_focal_loss``):

    p = sigmoid(x),  p_t = p t + (1 - p)(1 - t),  alpha_t = alpha t + (1 - alpha)(1 - t),
    loss = BCE_with_logits(x, t) * (1 - p_t)^gamma * alpha_t          (no alpha_t when alpha < 0)

For classification with a softmax over ``C`` classes, ``p_t`` is the softmax probability of the
target class and ``alpha_t = alpha[y]`` (a per-class weight, or none).  ``gamma = 0`` (and no
alpha) gives back the ordinary cross-entropy in both cases.

Compute the log-probabilities stably (``logsigmoid``/``softplus``, ``log_softmax``): logits of a
thousand are normal at the end of training.  Library losses are not allowed.
"""
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
    ### BEGIN SOLUTION
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"reduction must be 'none', 'mean' or 'sum', not {reduction!r}")
    p = torch.sigmoid(logits)
    # BCE with logits, stably: -t log sigmoid(x) - (1 - t) log sigmoid(-x)
    ce = -(targets * F.logsigmoid(logits) + (1 - targets) * F.logsigmoid(-logits))
    p_t = p * targets + (1 - p) * (1 - targets)
    loss = ce * (1 - p_t) ** gamma
    if alpha >= 0:
        loss = loss * (alpha * targets + (1 - alpha) * (1 - targets))
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss
    ### END SOLUTION


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
    ### BEGIN SOLUTION
    counted = target != ignore_index
    logits, target = logits[counted], target[counted]
    log_p = torch.log_softmax(logits, dim=-1).gather(1, target[:, None]).squeeze(1)   # (n,) log p_t
    loss = -(1 - log_p.exp()) ** gamma * log_p
    if alpha is not None:
        loss = loss * alpha.to(loss.dtype)[target]
    return loss.mean()
    ### END SOLUTION
