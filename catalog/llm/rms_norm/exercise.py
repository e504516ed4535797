"""RMSNorm: the normalisation layer of LLaMA, Mistral, Gemma and most recent LLMs.

LayerNorm centres each feature vector (subtracts its mean) and scales it to unit variance, then
applies a learned gain and bias.  RMSNorm (Zhang & Sennrich, 2019, "Root Mean Square Layer
Normalization") drops the centring and the bias: it divides by the root mean square only,

    y = x / sqrt(mean(x^2) + eps) * weight          (mean over the last dimension)

It is cheaper (one reduction instead of two), works as well in practice, and is what the
pre-norm transformer blocks of LLaMA use before attention and before the MLP.

Two details matter in real models:

* ``eps`` sits *inside* the square root (it keeps an all-zero vector at 0 instead of 0/0).
  LLaMA uses ``eps = 1e-6``; ``torch.nn.RMSNorm`` defaults to ``torch.finfo(dtype).eps``.
* LLMs run in bfloat16 / float16, where ``x^2`` can overflow (float16 tops out at 65504, so
  any |x| > 256 overflows) and a mean over thousands of features loses precision.  Hugging
  Face's ``LlamaRMSNorm`` therefore upcasts to float32 for the statistics, casts the
  normalised vector back to the input's dtype, and only then applies the weight.

Implement it exactly like ``transformers.models.llama.modeling_llama.LlamaRMSNorm`` (which
equals ``torch.nn.functional.rms_norm`` up to that rounding order) -- without calling either.
"""
import torch
import torch.nn as nn


def rms_norm(x: torch.Tensor, weight: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """Root-mean-square normalisation over the last dimension, then an elementwise gain.

    Args:
        x: ``(..., d)``, float16, bfloat16, float32 or float64.
        weight: ``(d,)``, the learned gain.
        eps: added to the mean square, inside the square root (so an all-zero row gives zeros,
            and huge or tiny rows stay finite and right).

    Computes, like ``LlamaRMSNorm``::

        h = x in float32 (at least: float64 may stay float64)
        h = h / sqrt(mean(h^2 over the last dim) + eps)
        y = weight * h cast back to x's dtype

    so with ``weight`` in x's dtype the output has x's dtype and shape.  Differentiable with
    respect to ``x`` and ``weight``; ``x`` is not modified.
    """
    ### BEGIN SOLUTION
    input_dtype = x.dtype
    h = x.to(torch.promote_types(input_dtype, torch.float32))    # statistics in float32 at least
    mean_square = h.pow(2).mean(dim=-1, keepdim=True)            # (..., 1)
    h = h * torch.rsqrt(mean_square + eps)                       # (..., d)
    return weight * h.to(input_dtype)
    ### END SOLUTION


class RMSNorm(nn.Module):
    """An RMSNorm layer over the last dimension, as LLaMA's.

    Attributes:
        weight: ``nn.Parameter`` of shape ``(hidden_size,)``, initialised to ones.
        eps: the epsilon (default 1e-6, LLaMA's ``rms_norm_eps``).

    ``forward(x)`` is ``rms_norm(x, self.weight, self.eps)`` for ``x`` of shape ``(..., hidden_size)``.
    """

    def __init__(self, hidden_size: int, eps: float = 1e-6):
        super().__init__()
        ### BEGIN SOLUTION
        self.weight = nn.Parameter(torch.ones(hidden_size))
        self.eps = eps
        ### END SOLUTION

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        ### BEGIN SOLUTION
        return rms_norm(x, self.weight, self.eps)
        ### END SOLUTION
