"""DDIM: deterministic (and partly stochastic) sampling in a fraction of the steps.

A DDPM is trained with ``T`` (say 1000) noise levels, and its ancestral sampler needs all of
them.  DDIM (Song, Meng & Ermon, 2021) keeps the trained network but replaces the Markov chain
with a family of non-Markovian ones that have the same marginals ``q(x_t | x_0)``, so a sampler
may jump between any two noise levels ``t > t'``:

    x0_hat = (x_t - sqrt(1 - abar_t) * eps_hat) / sqrt(abar_t)
    sigma  = eta * sqrt((1 - abar_t') / (1 - abar_t)) * sqrt(1 - abar_t / abar_t')
    x_t'   = sqrt(abar_t') * x0_hat + sqrt(1 - abar_t' - sigma^2) * eps_hat + sigma * z

``eta = 0`` is the deterministic DDIM sampler (an ODE discretisation: the same ``x_T`` always
gives the same image); ``eta = 1`` with consecutive timesteps is DDPM's posterior again.  After
the last step, ``t' = -1`` and ``abar_{-1} = 1``.

Networks predict either the noise (``"epsilon"``: ``eps_hat`` = the output) or the *velocity*
``v = sqrt(abar_t) * eps - sqrt(1 - abar_t) * x_0`` (``"v_prediction"``, Salimans & Ho, 2022;
Stable Diffusion 2), from which ``x0_hat = sqrt(abar_t) * x_t - sqrt(1 - abar_t) * v`` and
``eps_hat = sqrt(abar_t) * v + sqrt(1 - abar_t) * x_t``.

The inference timesteps use diffusers' ``"leading"`` spacing: with ``k = T // n``, the ``n``
steps are ``(n-1)k, (n-2)k, ..., k, 0`` and each one jumps to ``t - k``.

This mirrors ``diffusers.DDIMScheduler(clip_sample=False, set_alpha_to_one=True,
timestep_spacing="leading", steps_offset=0)``: ``set_timesteps`` and ``step``.
"""
import math
from typing import Callable, Optional, Tuple

import torch


def ddim_timesteps(num_train_steps: int, num_inference_steps: int) -> torch.Tensor:
    """The ``n = num_inference_steps`` timesteps, "leading" spacing: ``(n-1)k, ..., k, 0`` with
    ``k = num_train_steps // n`` (``1 <= n <= num_train_steps``).  Returns int64 ``(n,)``,
    decreasing."""
    ### BEGIN SOLUTION
    k = num_train_steps // num_inference_steps
    return torch.arange(num_inference_steps - 1, -1, -1, dtype=torch.int64) * k
    ### END SOLUTION


def ddim_step(model_output: torch.Tensor, t: int, prev_t: int, x_t: torch.Tensor, abar: torch.Tensor,
              eta: float = 0.0, generator: Optional[torch.Generator] = None,
              prediction_type: str = "epsilon") -> Tuple[torch.Tensor, torch.Tensor]:
    """One DDIM step from timestep ``t`` to ``prev_t < t`` (``prev_t = -1`` means "to x_0").

    Args:
        model_output: the network's output at ``(x_t, t)``, shaped like ``x_t``: the noise
            (``prediction_type="epsilon"``) or the velocity (``"v_prediction"``).
        t, prev_t: timesteps, ``0 <= t < T``, ``-1 <= prev_t < t``; ``abar_{-1} = 1``.
        x_t: ``(B, ...)``.
        abar: ``(T,)`` cumulative products of ``1 - beta`` (any float dtype).
        eta: ``>= 0``; ``sigma`` as in the module docstring.
        generator: when ``eta > 0``, the noise ``z = torch.randn(x_t.shape, generator=generator,
            dtype=x_t.dtype)`` is drawn once; when ``eta == 0`` nothing is drawn.

    Returns:
        ``(x_prev, x0_hat)``, both shaped like ``x_t`` and in its dtype (``x0_hat`` not clipped).
        No input is modified.

    Raises:
        ValueError: for an unknown ``prediction_type``.
    """
    ### BEGIN SOLUTION
    a_t = float(abar[t])
    a_prev = float(abar[prev_t]) if prev_t >= 0 else 1.0
    if prediction_type == "epsilon":
        eps_hat = model_output
        x0_hat = (x_t - math.sqrt(1 - a_t) * eps_hat) / math.sqrt(a_t)
    elif prediction_type == "v_prediction":
        x0_hat = math.sqrt(a_t) * x_t - math.sqrt(1 - a_t) * model_output
        eps_hat = math.sqrt(a_t) * model_output + math.sqrt(1 - a_t) * x_t
    else:
        raise ValueError(f"unknown prediction_type {prediction_type!r}")
    sigma = eta * math.sqrt((1 - a_prev) / (1 - a_t) * (1 - a_t / a_prev))
    x_prev = math.sqrt(a_prev) * x0_hat + math.sqrt(1 - a_prev - sigma ** 2) * eps_hat   # the deterministic part
    if eta > 0:
        x_prev = x_prev + sigma * torch.randn(x_t.shape, generator=generator, dtype=x_t.dtype)
    return x_prev, x0_hat
    ### END SOLUTION


def ddim_sample(model: Callable[[torch.Tensor, int], torch.Tensor], x_T: torch.Tensor, abar: torch.Tensor,
                num_inference_steps: int, eta: float = 0.0, generator: Optional[torch.Generator] = None,
                prediction_type: str = "epsilon") -> torch.Tensor:
    """Run the whole sampler from ``x_T``: for each ``t`` of :func:`ddim_timesteps` (``T =
    len(abar)``), ``x = ddim_step(model(x, t), t, t - k, x, ...)[0]``, with ``t`` passed to the
    model as a Python int and ``k = T // num_inference_steps`` (the last step goes to ``-1``).
    Returns the final ``x`` (shaped like ``x_T``, in its dtype); ``x_T`` is not modified."""
    ### BEGIN SOLUTION
    T = abar.shape[0]
    k = T // num_inference_steps
    x = x_T
    for t in ddim_timesteps(T, num_inference_steps).tolist():
        x, _ = ddim_step(model(x, t), t, t - k, x, abar, eta, generator, prediction_type)
    return x
    ### END SOLUTION
