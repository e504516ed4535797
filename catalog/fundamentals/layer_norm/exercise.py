"""Layer normalization (Ba, Kiros & Hinton, 2016): normalize each example over its own features.

Batch normalization needs a batch and behaves differently in training and evaluation.  Layer
normalization does not: every example (every token, in a transformer) is normalized with the
mean and the biased variance of its own last ``k`` dimensions -- the ``normalized_shape`` --
then scaled and shifted elementwise by a learned ``weight`` and ``bias`` of that same shape:

    y = (x - mean) / sqrt(var + eps) * weight + bias

It is the "Norm" of the transformer's "Add & Norm" and works identically at train and test time.

Implement the functional form with the contract of ``torch.nn.functional.layer_norm`` and the
module with that of ``torch.nn.LayerNorm`` (without calling either).  Compute the variance as the
mean of squared deviations from the mean: the shortcut E[x^2] - E[x]^2 subtracts two huge,
nearly equal numbers when |mean| >> std (e.g. activations around 1e4) and returns garbage,
even negative variances.
"""
from typing import Optional, Sequence, Union

import torch
from torch import nn

Shape = Union[int, Sequence[int]]


def layer_norm(x: torch.Tensor, normalized_shape: Shape, weight: Optional[torch.Tensor] = None,
               bias: Optional[torch.Tensor] = None, eps: float = 1e-5) -> torch.Tensor:
    """Normalize ``x`` over its last ``len(normalized_shape)`` dimensions.

    Args:
        x: a floating tensor ``[*, *normalized_shape]`` (any number of leading dimensions).
        normalized_shape: an int (the last dimension) or a sequence of ints (the last k).
        weight, bias: optional tensors of shape ``normalized_shape``, applied elementwise.
        eps: added to the variance before the square root.

    Mean and (biased, divide-by-count) variance are taken jointly over the last k dimensions,
    separately for every leading index.  Returns a tensor of ``x``'s shape and dtype, finite
    even for constant slices; differentiable in ``x``, ``weight`` and ``bias``; ``x`` is not
    modified.

    Raises:
        ValueError: if the last dimensions of ``x`` are not ``normalized_shape``.
    """
    ### BEGIN SOLUTION
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if len(shape) > x.dim() or tuple(x.shape[-len(shape):]) != shape:
        raise ValueError(f"expected input with trailing shape {list(shape)}, got {list(x.shape)}")
    dims = tuple(range(-len(shape), 0))                         # the last k dimensions
    mean = x.mean(dim=dims, keepdim=True)                       # (*, 1, ..., 1)
    var = (x - mean).square().mean(dim=dims, keepdim=True)      # biased, two-pass: stable
    y = (x - mean) / torch.sqrt(var + eps)
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return y
    ### END SOLUTION


class LayerNorm(nn.Module):
    """Module form of ``layer_norm``.

    Args:
        normalized_shape: an int or a sequence of ints; stored as a tuple in ``self.normalized_shape``.
        eps: as in ``layer_norm``.
        elementwise_affine: if True, ``weight`` (ones) and ``bias`` (zeros) are ``nn.Parameter``
            of shape ``normalized_shape``; if False, both are None.
    """

    def __init__(self, normalized_shape: Shape, eps: float = 1e-5, elementwise_affine: bool = True):
        super().__init__()
        ### BEGIN SOLUTION
        self.normalized_shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        self.eps = eps
        if elementwise_affine:
            self.weight = nn.Parameter(torch.ones(self.normalized_shape))
            self.bias = nn.Parameter(torch.zeros(self.normalized_shape))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        ### END SOLUTION

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)``."""
        ### BEGIN SOLUTION
        return layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        ### END SOLUTION
