# BUG: AMSGrad takes the maximum but never stores it back, so it only ever compares against zeros.
"""Adam: adaptive moments with bias correction -- exactly as ``torch.optim.Adam``.

Adam (Kingma & Ba, 2015) keeps two exponential moving averages per parameter: of the gradient
(first moment ``m``, the direction) and of the squared gradient (second moment ``v``, a
per-coordinate scale).  Each coordinate then moves by roughly ``lr`` in the direction of ``m``,
whatever the raw size of its gradient.  One step, for a parameter ``p`` with gradient ``g``:

    t <- t + 1                                    # this parameter's own step count
    g <- g + weight_decay * p                     # L2 penalty, added to the gradient (see AdamW)
    m <- beta1 * m + (1 - beta1) * g
    v <- beta2 * v + (1 - beta2) * g * g
    v_max <- max(v_max, v)                        # amsgrad only: use v_max below instead of v
    m_hat <- m / (1 - beta1 ** t)                 # bias correction: m and v start at zero
    v_hat <- v / (1 - beta2 ** t)
    p <- p - lr * m_hat / (sqrt(v_hat) + eps)     # eps added *outside* the square root

``m`` and ``v`` start at zero, so early averages are biased towards zero; dividing by
``1 - beta ** t`` removes that bias (on the first step ``m_hat = g`` and ``v_hat = g * g``, so the
update is ``lr * g / (|g| + eps)``).  AMSGrad (Reddi et al., 2018) keeps the running maximum of
the (uncorrected) ``v`` so the effective step size never grows back.

Implement ``adam_step`` (one parameter) and the optimizer class ``Adam``, without ``torch.optim``.
"""
from typing import Iterable

import torch


def adam_step(param: torch.Tensor, grad: torch.Tensor, state: dict, *, lr: float = 1e-3,
              betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0.0,
              amsgrad: bool = False) -> None:
    """Apply one Adam update to ``param``, in place, as ``torch.optim.Adam`` does.

    Args:
        param: floating tensor of any shape, updated in place (the caller runs under
            ``torch.no_grad()`` when ``param`` requires grad).
        grad: its gradient, same shape and dtype; must not be modified.
        state: this parameter's state dict, empty before its first step, updated in place.  After
            a step it holds ``"step"`` (int, the number of steps this parameter has taken),
            ``"exp_avg"`` (``m``) and ``"exp_avg_sq"`` (``v``), tensors shaped and typed like
            ``param``, and with ``amsgrad`` also ``"max_exp_avg_sq"`` (``v_max``).
        lr, betas=(beta1, beta2), eps, weight_decay, amsgrad: as in the module docstring.

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
    if weight_decay != 0:
        grad = grad.add(param, alpha=weight_decay)
    m, v = state["exp_avg"], state["exp_avg_sq"]
    m.mul_(beta1).add_(grad, alpha=1 - beta1)
    v.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
    if amsgrad:
        v = torch.maximum(state["max_exp_avg_sq"], v)
    bias_correction1 = 1 - beta1 ** t
    bias_correction2 = 1 - beta2 ** t
    denom = (v.sqrt() / bias_correction2 ** 0.5).add_(eps)
    param.addcdiv_(m, denom, value=-lr / bias_correction1)


class Adam:
    """Adam over a list of parameters (``torch.optim.Adam`` with one parameter group).

    Args:
        params: an iterable of leaf tensors with ``requires_grad=True`` (read once, kept as a list).
        lr, betas, eps, weight_decay, amsgrad: as in ``adam_step``.

    Raises:
        ValueError: when ``lr``, ``eps`` or ``weight_decay`` is negative, or a beta is outside [0, 1).

    Attributes:
        params: the list of parameters.
        state: ``state[p]`` is the state dict of parameter ``p`` (the tensor itself is the key),
            empty before its first step.
    """

    def __init__(self, params: Iterable[torch.Tensor], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, amsgrad: bool = False):
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
        skipped entirely: it does not move and its step count does not advance."""
        for p in self.params:
            if p.grad is not None:
                adam_step(p, p.grad, self.state[p], **self.hyper)
