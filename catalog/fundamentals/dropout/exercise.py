"""Dropout: the regularizer that trains an ensemble of thinned networks.

During training, dropout zeroes every activation independently with probability ``p``, so no
unit can rely on any particular other unit being present (Srivastava et al., 2014).  Modern
frameworks implement *inverted* dropout: the surviving activations are scaled up by
``1 / (1 - p)`` during training, so that the expected value of every output equals its input,
``E[out] = (1 - p) * x / (1 - p) = x``.  At evaluation time dropout is then simply the identity
-- nothing has to be rescaled at test time.

Implement ``dropout`` with the semantics of ``torch.nn.functional.dropout`` (plus an optional
``torch.Generator`` so that results can be reproduced), and the module ``Dropout`` with the
semantics of ``torch.nn.Dropout`` -- without calling either.
"""
from typing import Optional

import torch
import torch.nn as nn


def dropout(x: torch.Tensor, p: float = 0.5, training: bool = True,
            generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """Inverted dropout of ``x``.

    Args:
        x: a floating-point tensor of any shape (0-dim and empty included), on the CPU.
        p: the probability that an element is zeroed, ``0 <= p <= 1``; anything else raises
            ``ValueError``.
        training: when False, dropout is the identity.
        generator: if given, every random draw is taken from it (same seed, same output);
            otherwise from torch's global random number generator.  How you draw the mask
            (``torch.rand``, ``torch.bernoulli``, ...) is yours: only its distribution and the
            reproducibility are graded, never particular draws.

    Returns:
        a tensor with the shape and dtype of ``x``.  In training mode each element is, independently
        of all others, ``0`` with probability ``p`` and ``x / (1 - p)`` otherwise; so ``p = 0``
        returns the values of ``x`` and ``p = 1`` returns all zeros (never NaN).  In eval mode the
        values of ``x`` are returned unchanged (returning ``x`` itself is fine).  The output is
        differentiable with respect to ``x``.  ``x`` itself is never modified.
    """
    ### BEGIN SOLUTION
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training:
        return x
    # rand is uniform in [0, 1): P(rand >= p) = 1 - p, so p = 0 keeps all and p = 1 keeps none.
    keep = torch.rand(x.shape, generator=generator, device=x.device) >= p   # (*x.shape) bool
    scale = 1.0 / (1.0 - p) if p < 1.0 else 0.0
    return x * keep * scale
    ### END SOLUTION


class Dropout(nn.Module):
    """``torch.nn.Dropout``: applies :func:`dropout` with probability ``p`` in training mode.

    ``Dropout(p)`` raises ``ValueError`` unless ``0 <= p <= 1`` and stores ``p`` as ``self.p``.
    It has no parameters.  ``forward(x)`` drops with the global random number generator when
    the module is in training mode (``module.train()``, the default) and is the identity in eval
    mode (``module.eval()``): read ``self.training``.
    """

    def __init__(self, p: float = 0.5):
        super().__init__()
        ### BEGIN SOLUTION
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        ### END SOLUTION

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        ### BEGIN SOLUTION
        return dropout(x, self.p, self.training)
        ### END SOLUTION
