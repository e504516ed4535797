"""LayerNorm and RMSNorm backward by hand.

Autograd differentiates normalisation layers for you, but interviewers ask for the backward pass
on paper because it is where the chain rule stops being local: every output of a normalised row
depends on every input of that row, through the row's statistics.  For one row ``x`` of length
``D`` (the last dimension), with ``g = grad_out * weight`` the gradient that reaches the
normalised vector ``x_hat``:

* **LayerNorm** (Ba et al., 2016): ``mu = mean(x)``, ``var = mean((x - mu)^2)`` (biased),
  ``sigma = sqrt(var + eps)``, ``x_hat = (x - mu) / sigma``, ``y = x_hat * weight + bias``:

      dx = (g - mean(g) - x_hat * mean(g * x_hat)) / sigma

* **RMSNorm** (Zhang & Sennrich, 2019; LLaMA): no centring, no bias:
  ``r = sqrt(mean(x^2) + eps)``, ``x_hat = x / r``, ``y = x_hat * weight``:

      dx = (g - x_hat * mean(g * x_hat)) / r

  (one term fewer: nothing subtracts the mean, so nothing's gradient does.)

The parameters' gradients sum over every row, whatever the number of leading dimensions:
``dweight = sum(grad_out * x_hat)``, ``dbias = sum(grad_out)``.

Write both backward passes without autograd.  The grader compares them with
``torch.autograd`` through ``torch.nn.functional.layer_norm`` and ``rms_norm``.
"""
from typing import Tuple

import torch


def layer_norm_backward(x: torch.Tensor, weight: torch.Tensor, grad_out: torch.Tensor, eps: float = 1e-5
                        ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Gradients of ``y = layer_norm(x, (D,), weight, bias, eps)`` given ``grad_out = dL/dy``.

    Args:
        x: float tensor ``(..., D)``: any number of leading dimensions (none included); each
            row (the last dimension) is normalised on its own, with its mean and its BIASED
            variance (divide by ``D``), ``eps`` added inside the square root.  Accurate in
            float32 also for rows far from the origin (around 1e4 with std 1): take the
            variance as ``mean((x - mu)^2)``, not ``mean(x^2) - mu^2``; constant rows give
            finite gradients.
        weight: ``(D,)``, same dtype as ``x``.  (``bias`` is not needed: it does not change any
            gradient.)
        grad_out: ``dL/dy``, shaped and typed like ``x``.
        eps: added to the variance.

    Returns:
        ``(dx, dweight, dbias)``: ``dx`` shaped like ``x``; ``dweight`` and ``dbias`` of shape
        ``(D,)``, summed over ALL leading dimensions; all in ``x``'s dtype.  No input is modified.
    """
    ### BEGIN SOLUTION
    D = x.shape[-1]
    mu = x.mean(dim=-1, keepdim=True)                                  # (..., 1)
    var = ((x - mu) ** 2).mean(dim=-1, keepdim=True)                   # (..., 1) biased
    inv_sigma = torch.rsqrt(var + eps)                                 # (..., 1)
    x_hat = (x - mu) * inv_sigma                                       # (..., D)
    rows = grad_out.reshape(-1, D)                                     # (N, D) every leading index a row
    dweight = (rows * x_hat.reshape(-1, D)).sum(dim=0)                 # (D,)
    dbias = rows.sum(dim=0)                                            # (D,)
    g = grad_out * weight                                              # (..., D) dL/dx_hat
    dx = (g - g.mean(dim=-1, keepdim=True)
          - x_hat * (g * x_hat).mean(dim=-1, keepdim=True)) * inv_sigma
    return dx, dweight, dbias
    ### END SOLUTION


def rms_norm_backward(x: torch.Tensor, weight: torch.Tensor, grad_out: torch.Tensor, eps: float = 1e-6
                      ) -> Tuple[torch.Tensor, torch.Tensor]:
    """Gradients of ``y = rms_norm(x, (D,), weight, eps)`` given ``grad_out = dL/dy``.

    Args:
        x: float tensor ``(..., D)``; each row is divided by ``r = sqrt(mean(x^2) + eps)``
            (no centring, ``eps`` inside the square root).
        weight: ``(D,)``, same dtype as ``x``.
        grad_out: ``dL/dy``, shaped and typed like ``x``.
        eps: added to the mean square (LLaMA's default 1e-6).

    Returns:
        ``(dx, dweight)``: ``dx`` shaped like ``x``, ``dweight`` of shape ``(D,)`` summed over ALL
        leading dimensions; both in ``x``'s dtype.  No input is modified.
    """
    ### BEGIN SOLUTION
    D = x.shape[-1]
    inv_r = torch.rsqrt((x * x).mean(dim=-1, keepdim=True) + eps)      # (..., 1)
    x_hat = x * inv_r                                                  # (..., D)
    dweight = (grad_out * x_hat).reshape(-1, D).sum(dim=0)             # (D,)
    g = grad_out * weight                                              # (..., D) dL/dx_hat
    dx = (g - x_hat * (g * x_hat).mean(dim=-1, keepdim=True)) * inv_r
    return dx, dweight
    ### END SOLUTION
