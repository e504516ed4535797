"""Gradient clipping: the standard cure for exploding gradients.

When gradients explode, one update can throw the weights far away (and into NaN).  Clipping
by *global norm* rescales all gradients together so that their joint norm is at most
``max_norm``: the update keeps its direction and only loses length.  Clipping by *value*
clamps every entry into ``[-clip_value, clip_value]`` (cheaper, but it changes direction).

Implement both with the same contracts as ``torch.nn.utils.clip_grad_norm_`` and
``torch.nn.utils.clip_grad_value_`` -- without calling them.
"""
from typing import Iterable, Union

import torch

Params = Union[torch.Tensor, Iterable[torch.Tensor]]


def clip_grad_norm_(parameters: Params, max_norm: float, norm_type: float = 2.0) -> torch.Tensor:
    """Scale all gradients in place so that their global ``norm_type``-norm is at most ``max_norm``.

    Args:
        parameters: a tensor or an iterable of tensors (possibly a generator, which can be read
            only once); tensors whose ``.grad`` is None are skipped.
        max_norm: the largest allowed global norm.
        norm_type: any positive float, or ``float("inf")`` for the max-norm.

    The global norm is the norm of all gradients concatenated into one vector.  Every gradient
    is multiplied in place by ``max_norm / (total_norm + 1e-6)`` -- only when that factor is
    below 1 (gradients already small enough are left untouched).

    Returns:
        the global norm *before* clipping, a 0-dim tensor (0. when there are no gradients).
    """
    ### BEGIN SOLUTION
    if isinstance(parameters, torch.Tensor):
        parameters = [parameters]
    grads = [p.grad for p in parameters if p.grad is not None]
    if not grads:
        return torch.tensor(0.0)
    norm_type = float(norm_type)
    if norm_type == float("inf"):
        total_norm = torch.stack([g.detach().abs().max() for g in grads]).max()
    else:
        per_tensor = torch.stack([torch.linalg.vector_norm(g.detach(), norm_type) for g in grads])
        total_norm = torch.linalg.vector_norm(per_tensor, norm_type)
    clip_coef = max_norm / (total_norm + 1e-6)
    if clip_coef < 1:
        for g in grads:
            g.detach().mul_(clip_coef.to(g.dtype))
    return total_norm
    ### END SOLUTION


def clip_grad_value_(parameters: Params, clip_value: float) -> None:
    """Clamp every gradient entry in place into ``[-clip_value, clip_value]``.

    Args:
        parameters: a tensor or an iterable of tensors (possibly a generator); tensors whose
            ``.grad`` is None are skipped.
        clip_value: the largest allowed absolute value of an entry.
    """
    ### BEGIN SOLUTION
    if isinstance(parameters, torch.Tensor):
        parameters = [parameters]
    for p in parameters:
        if p.grad is not None:
            p.grad.detach().clamp_(min=-clip_value, max=clip_value)
    ### END SOLUTION
