# BUG: treats a missing gradient as zero, so weight decay and momentum still move parameters that had no gradient.
"""SGD with momentum, dampening, Nesterov and weight decay -- exactly as ``torch.optim.SGD``.

Plain SGD moves every parameter against its gradient: ``p <- p - lr * g``.  Momentum keeps a
per-parameter *velocity buffer* ``b`` so that components of the gradient that keep their sign
add up from step to step while components that oscillate cancel out -- faster progress along
the floor of a long narrow valley.  One step of PyTorch's SGD, for one parameter ``p`` with
gradient ``g``:

    g <- g + weight_decay * p                    # L2 regularisation, added to the gradient
    b <- g                                       # first step: the buffer starts as a copy of g
    b <- momentum * b + (1 - dampening) * g      # every later step
    d <- g + momentum * b   if nesterov else b   # Nesterov looks one step ahead
    p <- p - lr * d

Two conventions worth knowing.  Weight decay is added to the gradient, so it is exactly L2
regularisation: the same as adding ``weight_decay / 2 * ||p||^2`` to the loss.  And the buffer
accumulates *gradients*, not steps: ``lr`` multiplies the whole buffer, so changing ``lr`` mid
training rescales the accumulated velocity at once (Sutskever et al., 2013, fold ``lr`` into
the buffer instead; the two agree only while ``lr`` is constant).

Implement ``sgd_step`` (one parameter) and the optimizer class ``SGD`` (a list of parameters
with one state dict each), without ``torch.optim``.
"""
from typing import Iterable

import torch


def sgd_step(param: torch.Tensor, grad: torch.Tensor, state: dict, *, lr: float, momentum: float = 0.0,
             dampening: float = 0.0, weight_decay: float = 0.0, nesterov: bool = False) -> None:
    """Apply one SGD update to ``param``, in place, as ``torch.optim.SGD`` does.

    Args:
        param: floating tensor of any shape, updated in place (the caller runs under
            ``torch.no_grad()`` when ``param`` requires grad).
        grad: its gradient, same shape and dtype.  Must not be modified, and must not be kept in
            ``state`` (the caller may zero it in place before the next step).
        state: this parameter's state, a dict (empty before the first step), updated in place.
            When ``momentum != 0`` it holds ``state["momentum_buffer"]``: a tensor shaped like
            ``param``, set to a copy of the (weight-decayed) gradient on the first step.  With
            ``momentum == 0`` no buffer is kept and ``state`` is left as it is.
        lr, momentum, dampening, weight_decay, nesterov: as in the module docstring.

    Returns:
        None.
    """
    d_p = grad if weight_decay == 0 else grad.add(param, alpha=weight_decay)
    if momentum != 0:
        buf = state.get("momentum_buffer")
        if buf is None:
            buf = d_p.detach().clone()
            state["momentum_buffer"] = buf
        else:
            buf.mul_(momentum).add_(d_p, alpha=1 - dampening)
        d_p = d_p.add(buf, alpha=momentum) if nesterov else buf
    param.add_(d_p, alpha=-lr)


class SGD:
    """Stochastic gradient descent over a list of parameters (``torch.optim.SGD`` with one group).

    Args:
        params: an iterable of leaf tensors with ``requires_grad=True`` (read once, kept as a list).
        lr: learning rate, ``>= 0``.
        momentum, dampening, weight_decay, nesterov: as in ``sgd_step``; ``momentum`` and
            ``weight_decay`` must be ``>= 0``.

    Raises:
        ValueError: when ``lr``, ``momentum`` or ``weight_decay`` is negative, or when ``nesterov``
            is set without momentum (``momentum <= 0``) or with ``dampening != 0``.

    Attributes:
        params: the list of parameters.
        state: a dict with one entry per parameter -- ``state[p]`` is the state dict of
            parameter ``p`` (the tensor object itself is the key), empty before its first step.
    """

    def __init__(self, params: Iterable[torch.Tensor], lr: float, momentum: float = 0.0,
                 dampening: float = 0.0, weight_decay: float = 0.0, nesterov: bool = False):
        if lr < 0 or momentum < 0 or weight_decay < 0:
            raise ValueError(f"lr, momentum and weight_decay must be >= 0, got {lr}, {momentum}, {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        self.params = list(params)
        self.hyper = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                          nesterov=nesterov)
        self.state = {p: {} for p in self.params}

    def zero_grad(self) -> None:
        """Set every parameter's ``.grad`` to None (``torch.optim``'s default ``set_to_none=True``)."""
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        """Update every parameter that has a gradient; parameters whose ``.grad`` is None are
        skipped (their state is left untouched)."""
        for p in self.params:
            grad = p.grad if p.grad is not None else torch.zeros_like(p)
            sgd_step(p, grad, self.state[p], **self.hyper)
