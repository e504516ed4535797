"""The Gumbel-max trick and the Gumbel-softmax (concrete) relaxation.

Sampling a category is not differentiable.  Two facts make it workable:

* **Gumbel-max** (Gumbel, 1954; Maddison et al., 2014): with ``g_i`` i.i.d. standard Gumbel noise,
  ``argmax_i (logits_i + g_i)`` is an exact sample from ``softmax(logits)``.  A standard Gumbel
  variable is ``-log(-log(U))`` for ``U`` uniform on (0, 1).
* **Gumbel-softmax** (Jang et al., 2017; Maddison et al., 2017): replace the argmax by a softmax
  at temperature ``tau``, ``y = softmax((logits + g) / tau)`` -- a point of the simplex that tends
  to the one-hot sample as ``tau -> 0`` and is differentiable in ``logits``.  The
  *straight-through* variant returns the one-hot ``argmax`` in the forward pass and the soft
  ``y``'s gradient in the backward pass: ``y_hard - y.detach() + y``.

It is how discrete latent variables (VQ-VAE codebooks in DALL-E's dVAE, categorical VAEs, neural
architecture search) are trained by backpropagation.  This mirrors
``torch.nn.functional.gumbel_softmax`` and ``torch.distributions.RelaxedOneHotCategorical``.
"""
import torch

EPS = 1e-20          # keeps both logarithms finite when U is exactly 0


def sample_gumbel(shape, generator: torch.Generator, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Standard Gumbel noise: ``-log(-log(U + EPS) + EPS)`` with ``U = torch.rand(shape,
    generator=generator, dtype=dtype)`` (one draw).  Finite everywhere; ``shape`` and ``dtype`` as given."""
    ### BEGIN SOLUTION
    u = torch.rand(shape, generator=generator, dtype=dtype)
    return -torch.log(-torch.log(u + EPS) + EPS)
    ### END SOLUTION


def gumbel_max_sample(logits: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """One exact categorical sample per row: ``argmax(logits + g)`` over the last dimension, with
    ``g = sample_gumbel(logits.shape, generator, logits.dtype)``.  int64 ``logits.shape[:-1]``."""
    ### BEGIN SOLUTION
    return (logits + sample_gumbel(logits.shape, generator, logits.dtype)).argmax(dim=-1)
    ### END SOLUTION


def gumbel_softmax(logits: torch.Tensor, tau: float, hard: bool, generator: torch.Generator) -> torch.Tensor:
    """A relaxed one-hot sample over the last dimension.

    Args:
        logits: ``(..., K)`` float (finite, possibly large, e.g. 1e4).
        tau: temperature ``> 0``.
        hard: ``False`` returns ``y = softmax((logits + g) / tau)``; ``True`` returns the one-hot of
            ``argmax(y)`` (ties: the first) in the forward pass with ``y``'s gradient
            (straight-through: ``y_hard - y.detach() + y``).
        generator: ``g = sample_gumbel(logits.shape, generator, logits.dtype)``, one draw.

    Returns:
        shaped and typed like ``logits``, rows summing to 1, differentiable in ``logits``.
    """
    ### BEGIN SOLUTION
    g = sample_gumbel(logits.shape, generator, logits.dtype)
    y = torch.softmax((logits + g) / tau, dim=-1)                     # (..., K) on the simplex
    if not hard:
        return y
    index = y.argmax(dim=-1, keepdim=True)
    y_hard = torch.zeros_like(y).scatter_(-1, index, 1.0)
    return y_hard - y.detach() + y                                    # forward: one-hot; backward: y's gradient
    ### END SOLUTION
