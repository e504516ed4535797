"""DDPM: the noise schedule, forward noising, the training loss and one reverse step.

A denoising diffusion probabilistic model (Ho, Jain & Abbeel, 2020) destroys an image in ``T``
small Gaussian steps and learns to undo them.  Step ``t`` (0-based here, as in ``diffusers``)
keeps ``sqrt(1 - beta_t)`` of the signal and adds noise of variance ``beta_t``.  With
``alpha_t = 1 - beta_t`` and ``abar_t = alpha_0 * ... * alpha_t`` (the cumulative product), any
noise level is reachable in one jump -- the *forward process*:

    x_t = sqrt(abar_t) * x_0 + sqrt(1 - abar_t) * eps,        eps ~ N(0, I)

A network ``eps_theta(x_t, t)`` is trained to predict ``eps`` (the *simple* loss: mean squared
error between the predicted and the true noise, ``t`` uniform).  Sampling runs the chain
backwards; one *reverse step* from ``x_t`` first estimates the clean image,

    x0_hat = (x_t - sqrt(1 - abar_t) * eps_theta) / sqrt(abar_t),

then draws ``x_{t-1}`` from the Gaussian posterior ``q(x_{t-1} | x_t, x0_hat)``:

    mean = sqrt(abar_{t-1}) * beta_t / (1 - abar_t) * x0_hat + sqrt(alpha_t) * (1 - abar_{t-1}) / (1 - abar_t) * x_t
    var  = (1 - abar_{t-1}) / (1 - abar_t) * beta_t                    ("fixed_small", beta tilde)

with ``abar_{-1} = 1``: at ``t = 0`` the step returns the mean (= ``x0_hat``) and adds no noise.

Schedules: *linear* (DDPM: ``beta`` evenly spaced from ``beta_start`` to ``beta_end``) and
*cosine* (Nichol & Dhariwal, 2021: ``abar(s) = cos((s + 0.008) / 1.008 * pi / 2) ** 2`` for
``s = t / T``, ``beta_t = min(1 - abar((t + 1) / T) / abar(t / T), 0.999)``).

This mirrors ``diffusers.DDPMScheduler(beta_schedule="linear" | "squaredcos_cap_v2",
variance_type="fixed_small", clip_sample=False)``: its ``betas``, ``add_noise`` and ``step``.
"""
import math
from typing import Callable, Tuple

import torch


def beta_schedule(num_steps: int, kind: str = "linear", beta_start: float = 1e-4, beta_end: float = 0.02
                  ) -> torch.Tensor:
    """The ``T = num_steps`` noise variances ``beta_0 .. beta_{T-1}``.

    Args:
        num_steps: ``T >= 1``.
        kind: ``"linear"``: ``T`` values evenly spaced from ``beta_start`` to ``beta_end``, both
            included (``T = 1`` gives ``[beta_start]``); ``"cosine"``: ``beta_t = min(1 -
            f((t + 1) / T) / f(t / T), 0.999)`` with ``f(s) = cos((s + 0.008) / 1.008 * pi / 2) ** 2``
            (``beta_start`` and ``beta_end`` unused).

    Returns:
        float64 tensor ``(T,)``.

    Raises:
        ValueError: for any other ``kind``.
    """
    ### BEGIN SOLUTION
    if kind == "linear":
        return torch.linspace(beta_start, beta_end, num_steps, dtype=torch.float64)
    if kind == "cosine":
        f = lambda s: math.cos((s + 0.008) / 1.008 * math.pi / 2) ** 2  # noqa: E731
        return torch.tensor([min(1 - f((t + 1) / num_steps) / f(t / num_steps), 0.999) for t in range(num_steps)],
                            dtype=torch.float64)
    raise ValueError(f"unknown schedule {kind!r}: expected 'linear' or 'cosine'")
    ### END SOLUTION


def alphas_cumprod(betas: torch.Tensor) -> torch.Tensor:
    """``abar_t = prod_{s <= t} (1 - beta_s)``, same shape and dtype as ``betas`` (not modified)."""
    ### BEGIN SOLUTION
    return torch.cumprod(1.0 - betas, dim=0)
    ### END SOLUTION


def q_sample(x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor, abar: torch.Tensor) -> torch.Tensor:
    """The forward process in one jump: ``sqrt(abar_t) * x0 + sqrt(1 - abar_t) * noise``.

    Args:
        x0: clean samples ``(B, ...)`` (any number of dims after the batch).
        t: int64 ``(B,)``: each sample's own timestep in ``[0, T)``.
        noise: shaped like ``x0``.
        abar: ``(T,)``, from :func:`alphas_cumprod` (any float dtype).

    Returns:
        shaped like ``x0``, in ``x0``'s dtype.  No input is modified.
    """
    ### BEGIN SOLUTION
    a = abar[t].to(x0.dtype).reshape(-1, *([1] * (x0.dim() - 1)))    # (B, 1, ..., 1) broadcasts per sample
    return a.sqrt() * x0 + (1 - a).sqrt() * noise
    ### END SOLUTION


def training_loss(eps_model: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], x0: torch.Tensor,
                  abar: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """DDPM's simple loss for one batch: ``mean((eps_model(x_t, t) - eps) ** 2)``.

    Draws, in this order and only from ``generator``: ``t = torch.randint(0, T, (B,))``, then
    ``eps = torch.randn(x0.shape, dtype=x0.dtype)``; then ``x_t = q_sample(x0, t, eps, abar)``.

    Args:
        eps_model: called once as ``eps_model(x_t, t)``; returns a tensor shaped like ``x0``.
        x0: ``(B, ...)`` clean samples.
        abar: ``(T,)``.
        generator: the only source of randomness.

    Returns:
        a 0-dim tensor: the mean over every element, differentiable through ``eps_model``'s output.
    """
    ### BEGIN SOLUTION
    T = abar.shape[0]
    t = torch.randint(0, T, (x0.shape[0],), generator=generator)                 # (B,)
    eps = torch.randn(x0.shape, generator=generator, dtype=x0.dtype)             # (B, ...)
    x_t = q_sample(x0, t, eps, abar)
    return ((eps_model(x_t, t) - eps) ** 2).mean()
    ### END SOLUTION


def ddpm_step(eps_pred: torch.Tensor, t: int, x_t: torch.Tensor, betas: torch.Tensor, generator: torch.Generator
              ) -> Tuple[torch.Tensor, torch.Tensor]:
    """One reverse step ``x_t -> x_{t-1}`` (every sample of the batch at the same ``t``).

    Args:
        eps_pred: the model's noise prediction, shaped like ``x_t``.
        t: the current timestep, ``0 <= t < T``.
        x_t: ``(B, ...)``.
        betas: ``(T,)``.
        generator: the noise ``z = torch.randn(x_t.shape, generator=generator, dtype=x_t.dtype)`` is
            drawn only when ``t > 0`` (nothing is drawn at ``t = 0``).

    Returns:
        ``(x_prev, x0_hat)``, both shaped like ``x_t`` in its dtype: ``x0_hat`` as in the module
        docstring (not clipped), ``x_prev = mean + sqrt(var) * z`` for ``t > 0`` and ``mean``
        at ``t = 0``, with ``abar_{t-1} = 1`` at ``t = 0``.  No input is modified.
    """
    ### BEGIN SOLUTION
    abar = alphas_cumprod(betas)
    abar_t = float(abar[t])
    abar_prev = float(abar[t - 1]) if t > 0 else 1.0
    beta_t = float(betas[t])
    x0_hat = (x_t - math.sqrt(1 - abar_t) * eps_pred) / math.sqrt(abar_t)
    mean = (math.sqrt(abar_prev) * beta_t / (1 - abar_t) * x0_hat
            + math.sqrt(1 - beta_t) * (1 - abar_prev) / (1 - abar_t) * x_t)
    if t == 0:
        return mean, x0_hat
    var = (1 - abar_prev) / (1 - abar_t) * beta_t                     # beta tilde: the posterior variance
    z = torch.randn(x_t.shape, generator=generator, dtype=x_t.dtype)
    return mean + math.sqrt(var) * z, x0_hat
    ### END SOLUTION
