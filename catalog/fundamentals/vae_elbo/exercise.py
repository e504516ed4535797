"""The variational autoencoder's two tricks: reparameterisation and the ELBO.

A VAE (Kingma & Welling, 2014) encodes ``x`` into a Gaussian ``q(z | x) = N(mu, diag(sigma^2))``
(the encoder outputs ``mu`` and ``logvar = log sigma^2``), samples a latent ``z``, and decodes
it into the parameters of ``p(x | z)``.  Training maximises the evidence lower bound

    ELBO(x) = E_q[log p(x | z)] - KL(q(z | x) || N(0, I))  <=  log p(x)

(in practice: minimise ``recon + beta * kl``, one ``z`` per example; ``beta = 1`` is the VAE,
``beta > 1`` the beta-VAE of Higgins et al., 2017).

* **Reparameterisation.** Sampling ``z ~ N(mu, sigma^2)`` is not differentiable in ``mu`` and
  ``sigma``; writing ``z = mu + sigma * eps`` with ``eps ~ N(0, I)`` drawn independently moves
  the randomness out of the way, so gradients flow into the encoder.
* **Analytic KL.** Between diagonal Gaussians and the standard normal, per latent dimension,
  ``KL = 0.5 * (sigma^2 + mu^2 - 1 - log sigma^2)``; summed over the latent dimensions.
* **Reconstruction.** ``recon = -log p(x | z)`` summed over every dimension of one example
  (pixels), then averaged over the batch -- not averaged over pixels, which would silently
  rescale it against the KL.  Bernoulli decoder (``recon_x`` are logits, ``x`` in ``[0, 1]``):
  binary cross-entropy with logits, computed stably; Gaussian decoder with unit variance
  (``recon_x`` is the mean): ``0.5 * (x - recon_x)^2 + 0.5 * log(2 pi)`` per dimension.

Write them with torch only; the grader compares with ``torch.distributions`` and
``F.binary_cross_entropy_with_logits``.
"""
import math
from typing import Tuple

import torch


def reparameterize(mu: torch.Tensor, logvar: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """``z = mu + exp(0.5 * logvar) * eps``.

    Args:
        mu, logvar: float tensors of one shape ``(..., D)`` and dtype.
        generator: the only source of randomness: ``eps = torch.randn(mu.shape,
            generator=generator, dtype=mu.dtype)``, one draw.

    Returns:
        ``z`` shaped like ``mu``, differentiable with respect to ``mu`` and ``logvar`` (neither
        is modified).
    """
    ### BEGIN SOLUTION
    eps = torch.randn(mu.shape, generator=generator, dtype=mu.dtype)
    return mu + torch.exp(0.5 * logvar) * eps
    ### END SOLUTION


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """``KL(N(mu, exp(logvar)) || N(0, 1))`` summed over the last (latent) dimension.

    Args:
        mu, logvar: ``(..., D)``.

    Returns:
        ``(...)`` -- ``0.5 * sum_d (exp(logvar) + mu^2 - 1 - logvar)``, in ``mu``'s dtype;
        finite for any finite ``logvar``; differentiable.  ``mu`` and ``logvar`` are not modified.
    """
    ### BEGIN SOLUTION
    return 0.5 * (logvar.exp() + mu * mu - 1.0 - logvar).sum(dim=-1)
    ### END SOLUTION


def negative_elbo(x: torch.Tensor, recon_x: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor,
                  likelihood: str = "bernoulli", beta: float = 1.0
                  ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The VAE loss of a batch: ``(loss, recon, kl)``, each a 0-dim tensor, ``loss = recon + beta * kl``.

    Args:
        x: data ``(B, ...)``; for ``"bernoulli"`` every entry in ``[0, 1]`` (not only 0 or 1).
        recon_x: the decoder's output, shaped like ``x``: logits (``"bernoulli"``, any finite
            value, e.g. +-100) or the mean of a unit-variance Gaussian (``"gaussian"``).
        mu, logvar: the encoder's ``(B, D)``.
        likelihood: ``"bernoulli"`` or ``"gaussian"``.
        beta: the KL's weight.

    Returns:
        ``recon``: the mean over the batch of ``-log p(x | z)`` summed over all non-batch
        dimensions -- Bernoulli: ``sum(softplus(l) - x * l)`` (the binary cross-entropy with
        logits ``l``); Gaussian: ``sum(0.5 * (x - recon_x)^2 + 0.5 * log(2 pi))``.
        ``kl``: the mean over the batch of :func:`gaussian_kl`.  All differentiable, finite for
        finite inputs, in ``x``'s dtype.

    Raises:
        ValueError: for another ``likelihood``.
    """
    ### BEGIN SOLUTION
    B = x.shape[0]
    if likelihood == "bernoulli":
        # softplus(l) - x l, with softplus(l) = max(l, 0) + log(1 + exp(-|l|)) so exp never overflows
        nll = recon_x.clamp_min(0) - x * recon_x + torch.log1p(torch.exp(-recon_x.abs()))
    elif likelihood == "gaussian":
        nll = 0.5 * (x - recon_x) ** 2 + 0.5 * math.log(2 * math.pi)
    else:
        raise ValueError(f"unknown likelihood {likelihood!r}")
    recon = nll.reshape(B, -1).sum(dim=1).mean()                      # sum per example, mean over the batch
    kl = gaussian_kl(mu, logvar).mean()
    return recon + beta * kl, recon, kl
    ### END SOLUTION
