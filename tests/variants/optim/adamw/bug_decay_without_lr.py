# BUG: decays by weight_decay alone (p *= 1 - weight_decay), forgetting the learning rate.
"""AdamW: Adam with *decoupled* weight decay -- exactly as ``torch.optim.AdamW``.

Adam's ``weight_decay`` adds ``weight_decay * p`` to the gradient (L2 regularisation), and then
the adaptive denominator ``sqrt(v_hat) + eps`` rescales it like every other gradient: parameters
with large or noisy gradients are barely regularised at all.  Loshchilov & Hutter (2019,
"Decoupled Weight Decay Regularization") take the decay out of the gradient and apply it to the
weights directly, at the learning rate, before the usual Adam update:

    t <- t + 1
    p <- p * (1 - lr * weight_decay)              # decoupled decay: no gradient, no moments
    m <- beta1 * m + (1 - beta1) * g              # g is the plain gradient
    v <- beta2 * v + (1 - beta2) * g * g
    v_max <- max(v_max, v)                        # amsgrad only: use v_max below instead of v
    p <- p - lr * (m / (1 - beta1 ** t)) / (sqrt(v / (1 - beta2 ** t)) + eps)

So every weight shrinks by the same factor per step whatever its gradient looks like, and
scaling the loss (with ``eps``) changes nothing -- unlike Adam with L2, where the decay competes
with the gradient inside the moments.  This is the optimizer behind most transformer training
(BERT, GPT, LLaMA recipes), with ``weight_decay`` around 0.01 - 0.1.

Implement ``adamw_step`` (one parameter) and the optimizer class ``AdamW``, without ``torch.optim``.
"""
from typing import Iterable

import torch


def adamw_step(param: torch.Tensor, grad: torch.Tensor, state: dict, *, lr: float = 1e-3,
               betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8, weight_decay: float = 1e-2,
               amsgrad: bool = False) -> None:
    """Apply one AdamW update to ``param``, in place, as ``torch.optim.AdamW`` does.

    Args:
        param: floating tensor of any shape, updated in place (the caller runs under
            ``torch.no_grad()`` when ``param`` requires grad).
        grad: its gradient, same shape and dtype; must not be modified.
        state: this parameter's state dict, empty before its first step, updated in place.  After
            a step it holds ``"step"`` (int), ``"exp_avg"`` (``m``) and ``"exp_avg_sq"`` (``v``),
            tensors shaped and typed like ``param``, and with ``amsgrad`` also ``"max_exp_avg_sq"``.
            The moments see the plain gradient: the decay never enters them.
        lr, betas=(beta1, beta2), eps, weight_decay, amsgrad: as in the module docstring
            (note the default ``weight_decay=1e-2``, as in torch).

    Returns:
        None.
    """
    beta1, beta2 = betas
    if not state:
        state["step"] = 0
        state["exp_avg"] = torch.zeros_like(param)
        state["exp_avg_sq"] = torch.zeros_like(param)
        if amsgrad:
            state["max_exp_avg_sq"] = torch.zeros_like(param)
    state["step"] += 1
    t = state["step"]
    param.mul_(1 - weight_decay)
    m, v = state["exp_avg"], state["exp_avg_sq"]
    m.mul_(beta1).add_(grad, alpha=1 - beta1)
    v.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
    if amsgrad:
        v = torch.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
    bias_correction1 = 1 - beta1 ** t
    bias_correction2 = 1 - beta2 ** t
    denom = (v.sqrt() / bias_correction2 ** 0.5).add_(eps)
    param.addcdiv_(m, denom, value=-lr / bias_correction1)


class AdamW:
    """AdamW over a list of parameters (``torch.optim.AdamW`` with one parameter group).

    Args:
        params: an iterable of leaf tensors with ``requires_grad=True`` (read once, kept as a list).
        lr, betas, eps, weight_decay, amsgrad: as in ``adamw_step``.

    Raises:
        ValueError: when ``lr``, ``eps`` or ``weight_decay`` is negative, or a beta is outside [0, 1).

    Attributes:
        params: the list of parameters.
        state: a dict keyed by the parameter tensors themselves: ``state[p]`` is the state dict
            of parameter ``p`` once ``p`` has taken a step (before that it may be empty or absent).
    """

    def __init__(self, params: Iterable[torch.Tensor], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False):
        if lr < 0 or eps < 0 or weight_decay < 0:
            raise ValueError(f"lr, eps and weight_decay must be >= 0, got {lr}, {eps}, {weight_decay}")
        if not all(0.0 <= b < 1.0 for b in betas):
            raise ValueError(f"betas must lie in [0, 1), got {betas}")
        self.params = list(params)
        self.hyper = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad)
        self.state = {p: {} for p in self.params}

    def zero_grad(self) -> None:
        """Set every parameter's ``.grad`` to None."""
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        """Update every parameter that has a gradient.  A parameter whose ``.grad`` is None is
        skipped entirely: it is not decayed either, and its step count does not advance."""
        for p in self.params:
            if p.grad is not None:
                adamw_step(p, p.grad, self.state[p], **self.hyper)
