# BUG: ELU computes exp(x) - 1 instead of expm1(x): most digits are lost for tiny negative x in float32.
"""Activation functions of the ReLU family and GELU, with their derivatives written by hand.

ReLU's gradient is exactly 0 for every negative input: a unit that only sees negative inputs
never learns again (a "dead" ReLU).  Its successors keep a gradient on the negative side:

* **Leaky ReLU**: ``x`` for x > 0, ``negative_slope * x`` otherwise.
* **ELU** (Clevert et al., 2015): ``x`` for x > 0, ``alpha * (exp(x) - 1)`` otherwise -- smooth,
  saturating at ``-alpha``, which pushes mean activations towards 0.
* **SELU** (Klambauer et al., 2017): ``scale * ELU(x, alpha)`` with the two constants below,
  chosen so that activations keep mean 0 and variance 1 through many layers ("self-normalizing").
* **GELU** (Hendrycks & Gimpel, 2016), the activation of BERT and GPT: ``x * Phi(x)`` with Phi
  the standard normal CDF, or its tanh approximation
  ``0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x**3)))``.

Write each function and its derivative f'(x) -- by hand, not with autograd: a backward pass
multiplies the upstream gradient by exactly this.  Values must agree with
``torch.nn.functional.leaky_relu / elu / selu / gelu`` and derivatives with torch's autograd of
those, including at x = 0 (where torch uses the derivative of the x <= 0 piece).

Numerics matter here.  ``exp(x)`` overflows float32 above x ~ 88.7: a branch you do not select
must still not produce inf or NaN (``0 * inf`` is NaN).  And ``exp(x) - 1`` loses most of its
digits for tiny |x|: ``torch.expm1`` computes it exactly.
"""
import math

import torch

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def leaky_relu(x: torch.Tensor, negative_slope: float = 0.01) -> torch.Tensor:
    """``x`` where x > 0, ``negative_slope * x`` elsewhere (any float slope, also > 1 or < 0).

    ``x`` is a floating tensor of any shape; the result has its shape and dtype, and ``x`` is
    not modified.  The same holds for every function of this exercise.
    """
    return torch.where(x > 0, x, negative_slope * x)


def leaky_relu_grad(x: torch.Tensor, negative_slope: float = 0.01) -> torch.Tensor:
    """d leaky_relu / dx: 1 where x > 0, ``negative_slope`` where x <= 0."""
    return torch.where(x > 0, torch.ones_like(x), torch.full_like(x, negative_slope))


def elu(x: torch.Tensor, alpha: float = 1.0) -> torch.Tensor:
    """``x`` where x > 0, ``alpha * (exp(x) - 1)`` where x <= 0.

    Finite for every finite input (no overflow for large positive x), and accurate to float
    precision for tiny negative x (relative error, not only absolute).
    """
    # expm1 of the clamped input: exact near 0, and exp never sees a large positive x
    return torch.where(x > 0, x, alpha * (torch.exp(x.clamp(max=0)) - 1))


def elu_grad(x: torch.Tensor, alpha: float = 1.0) -> torch.Tensor:
    """d elu / dx: 1 where x > 0, ``alpha * exp(x)`` where x <= 0.  Finite for every finite x."""
    return torch.where(x > 0, torch.ones_like(x), alpha * torch.exp(x.clamp(max=0)))


def selu(x: torch.Tensor) -> torch.Tensor:
    """``SELU_SCALE * elu(x, SELU_ALPHA)``, with the same numerical guarantees as ``elu``."""
    return SELU_SCALE * elu(x, SELU_ALPHA)


def selu_grad(x: torch.Tensor) -> torch.Tensor:
    """d selu / dx: ``SELU_SCALE`` where x > 0, ``SELU_SCALE * SELU_ALPHA * exp(x)`` where x <= 0."""
    return SELU_SCALE * elu_grad(x, SELU_ALPHA)


def gelu(x: torch.Tensor, approximate: str = "none") -> torch.Tensor:
    """GELU: ``x * Phi(x)`` (``approximate="none"``, Phi(x) = (1 + erf(x / sqrt(2))) / 2), or
    ``0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x**3)))`` (``approximate="tanh"``).

    Raises:
        ValueError: for any other value of ``approximate``.
    """
    if approximate == "none":
        return 0.5 * x * (1 + torch.erf(x / math.sqrt(2)))
    if approximate == "tanh":
        inner = math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)
        return 0.5 * x * (1 + torch.tanh(inner))
    raise ValueError(f"approximate must be 'none' or 'tanh', not {approximate!r}")


def gelu_grad(x: torch.Tensor, approximate: str = "none") -> torch.Tensor:
    """d gelu / dx for the same ``approximate`` (``"none"``: Phi(x) + x * phi(x), phi the normal
    density; ``"tanh"``: the derivative of the tanh formula).  Finite for |x| up to 1e4 in float32.

    Raises:
        ValueError: for any other value of ``approximate``.
    """
    if approximate == "none":
        cdf = 0.5 * (1 + torch.erf(x / math.sqrt(2)))
        pdf = torch.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
        return cdf + x * pdf
    if approximate == "tanh":
        k = math.sqrt(2 / math.pi)
        t = torch.tanh(k * (x + 0.044715 * x ** 3))
        d_inner = k * (1 + 3 * 0.044715 * x * x)
        return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * d_inner
    raise ValueError(f"approximate must be 'none' or 'tanh', not {approximate!r}")
