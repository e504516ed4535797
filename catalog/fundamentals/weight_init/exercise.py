"""Weight initialization: Xavier/Glorot and He/Kaiming, the cure for signals that die or blow up.

A deep network multiplies its input by one weight matrix per layer.  If each layer scales the
variance of its activations by some factor r, after L layers the variance has been scaled by
r**L: vanishing (r < 1) or exploding (r > 1) signals, and gradients, from the very first step.
The fix is to draw the weights with exactly the variance that makes r = 1.

* **Xavier/Glorot** (Glorot & Bengio, 2010) balances the forward and the backward pass:
  Var(w) = gain**2 * 2 / (fan_in + fan_out).  The uniform version draws from U(-a, a) with
  a = gain * sqrt(6 / (fan_in + fan_out)), since U(-a, a) has variance a**2 / 3.
* **He/Kaiming** (He et al., 2015) accounts for the ReLU zeroing half its input:
  std = gain / sqrt(fan), with gain = sqrt(2) for ReLU and fan = fan_in (keep the forward
  variance) or fan_out (keep the backward variance).

A weight's fans follow PyTorch's layouts: a Linear weight is ``[out, in]`` and a convolution
weight is ``[out, in / groups, *kernel]``, so every output unit sees ``in / groups * prod(kernel)``
inputs.  The gain corrects for the nonlinearity that follows the layer.

Implement the four functions with the contracts of ``torch.nn.init.calculate_gain``,
``torch.nn.init._calculate_fan_in_and_fan_out``, ``torch.nn.init.xavier_uniform_`` and
``torch.nn.init.kaiming_normal_`` -- without calling them (or any other ``torch.nn.init`` function).
"""
import math
from typing import Optional

import torch


def calculate_gain(nonlinearity: str, param: Optional[float] = None) -> float:
    """The recommended gain for a layer followed by ``nonlinearity``, as a Python float.

    ===============================================  ==================================
    nonlinearity                                     gain
    ===============================================  ==================================
    ``"linear"``, ``"conv1d"``, ``"conv2d"``,        1
    ``"conv3d"``, ``"sigmoid"``
    ``"tanh"``                                       5 / 3
    ``"relu"``                                       sqrt(2)
    ``"leaky_relu"``                                 sqrt(2 / (1 + negative_slope**2))
    ``"selu"``                                       3 / 4
    ===============================================  ==================================

    ``param`` is the negative slope of ``"leaky_relu"`` (0.01 when None; 0 is a valid slope
    and gives the ReLU gain); it is ignored for every other nonlinearity.

    Raises:
        ValueError: for any other nonlinearity name.
    """
    ### BEGIN SOLUTION
    if nonlinearity in ("linear", "conv1d", "conv2d", "conv3d", "sigmoid"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else float(param)
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"unsupported nonlinearity {nonlinearity!r}")
    ### END SOLUTION


def calculate_fan_in_and_fan_out(tensor: torch.Tensor) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight tensor, as two Python ints.

    ``tensor`` has shape ``[out, in]`` (Linear) or ``[out, in / groups, *kernel]`` (any
    convolution).  With ``receptive = prod(kernel)`` (1 for a Linear weight):
    ``fan_in = shape[1] * receptive`` and ``fan_out = shape[0] * receptive``.
    The tensor's values are not read.

    Raises:
        ValueError: if ``tensor`` has fewer than 2 dimensions.
    """
    ### BEGIN SOLUTION
    if tensor.dim() < 2:
        raise ValueError("fan_in and fan_out need a tensor with at least 2 dimensions")
    receptive = math.prod(tensor.shape[2:])     # 1 for a Linear weight
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive
    ### END SOLUTION


def xavier_uniform_(tensor: torch.Tensor, gain: float = 1.0,
                    generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """Fill ``tensor`` in place with draws from U(-a, a), a = gain * sqrt(6 / (fan_in + fan_out)).

    Args:
        tensor: a floating-point weight of at least 2 dimensions (may be an ``nn.Parameter``
            that requires grad: filling it is not recorded by autograd).
        gain: the scaling factor, e.g. ``calculate_gain("tanh")``.
        generator: draw from this ``torch.Generator`` when given (the global RNG is then left
            alone), else from the global RNG.  How you draw (``uniform_``, ``torch.rand`` and an
            affine map, ...) is yours: the distribution and the reproducibility are graded, never
            particular draws.

    Returns:
        ``tensor`` itself (the same object), its shape and dtype unchanged.
    """
    ### BEGIN SOLUTION
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    with torch.no_grad():
        return tensor.uniform_(-a, a, generator=generator)
    ### END SOLUTION


def kaiming_normal_(tensor: torch.Tensor, a: float = 0.0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu",
                    generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """Fill ``tensor`` in place with draws from N(0, std**2), std = gain / sqrt(fan).

    Args:
        tensor: a floating-point weight of at least 2 dimensions (may be an ``nn.Parameter``
            that requires grad: filling it is not recorded by autograd).
        a: the negative slope of the leaky ReLU after this layer; it is the ``param`` of
            ``calculate_gain(nonlinearity, a)`` (so only ``"leaky_relu"`` uses it; with the
            defaults, a = 0 gives the ReLU gain sqrt(2)).
        mode: ``"fan_in"`` (keep the variance of the forward pass) or ``"fan_out"`` (of the
            backward pass): which fan of ``calculate_fan_in_and_fan_out`` is ``fan``.
        nonlinearity: a name that ``calculate_gain`` accepts.
        generator: as in ``xavier_uniform_``.

    A tensor with a zero-size dimension is returned as is (its fan may be 0).

    Returns:
        ``tensor`` itself (the same object), its shape and dtype unchanged.

    Raises:
        ValueError: if ``mode`` is neither ``"fan_in"`` nor ``"fan_out"``.
    """
    ### BEGIN SOLUTION
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', not {mode!r}")
    if tensor.numel() == 0:
        return tensor
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    fan = fan_in if mode == "fan_in" else fan_out
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    with torch.no_grad():
        return tensor.normal_(0.0, std, generator=generator)
    ### END SOLUTION
