"""Gradient flow: watch gradients vanish in a deep sigmoid network.

Backpropagation multiplies, layer by layer, the transposed weight matrix and the derivative of
the activation.  The sigmoid's derivative is at most 1/4, so in a deep sigmoid network with
Glorot/Xavier-scaled weights the gradient shrinks by roughly a constant factor per layer: the
first layers receive gradients orders of magnitude smaller than the last ones and barely learn
(Glorot & Bengio, 2010).  ReLU, whose derivative is 1 where it is active, together with He
initialization (He et al., 2015), which keeps the variance of the signal constant from layer to
layer, lets the gradient reach the first layer with about the same size.

Build the experiment:

* ``make_mlp`` -- a plain MLP of a given depth, activation and initialization;
* ``layer_grad_norms`` -- one backward pass, then the norm of each linear layer's weight
  gradient, from the first layer to the last;
* ``gradients_vanish`` -- the diagnosis: is the first layer's gradient norm a tiny fraction of
  the last layer's?

The initializations are those of ``torch.nn.init.xavier_normal_`` and
``torch.nn.init.kaiming_normal_`` (fan_in, ReLU gain); the loss is ``F.mse_loss``.
"""
import math
from typing import Optional, Sequence, Union

import torch
import torch.nn as nn
import torch.nn.functional as F


def make_mlp(in_features: int, width: int, out_features: int, depth: int, activation: str = "sigmoid",
             init: str = "xavier", generator: Optional[torch.Generator] = None) -> nn.Sequential:
    """A multilayer perceptron of ``depth`` linear layers.

    Returns ``nn.Sequential(Linear, act, Linear, act, ..., Linear)``: ``depth`` ``nn.Linear`` layers
    of sizes ``in_features -> width -> ... -> width -> out_features`` (``depth = 1``:
    ``in_features -> out_features``), with one activation module between consecutive linear
    layers and none after the last -- ``2 * depth - 1`` modules in all.

    Args:
        activation: ``"sigmoid"`` (``nn.Sigmoid``) or ``"relu"`` (``nn.ReLU``).
        init: how each weight matrix (``fan_in`` inputs, ``fan_out`` outputs) is drawn:
            ``"xavier"``: normal, mean 0, std ``sqrt(2 / (fan_in + fan_out))``;
            ``"he"``: normal, mean 0, std ``sqrt(2 / fan_in)``.
            Every bias is set to 0.
        generator: if given, every random draw is taken from it (same seed, same weights);
            otherwise from torch's global random number generator.  How you draw (``normal_``,
            ``torch.randn`` then scaling, ...) is yours: the distribution and the reproducibility
            are graded, never particular draws.

    Raises:
        ValueError: for ``depth < 1``, an unknown ``activation`` or an unknown ``init``.
    """
    ### BEGIN SOLUTION
    if depth < 1:
        raise ValueError(f"depth must be at least 1, got {depth}")
    acts = {"sigmoid": nn.Sigmoid, "relu": nn.ReLU}
    if activation not in acts:
        raise ValueError(f"unknown activation {activation!r}")
    if init not in ("xavier", "he"):
        raise ValueError(f"unknown init {init!r}")
    sizes = [in_features] + [width] * (depth - 1) + [out_features]
    layers = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        linear = nn.Linear(fan_in, fan_out)
        std = math.sqrt(2 / (fan_in + fan_out)) if init == "xavier" else math.sqrt(2 / fan_in)
        with torch.no_grad():
            linear.weight.normal_(0.0, std, generator=generator)    # (fan_out, fan_in)
            linear.bias.zero_()
        layers.append(linear)
        if i < depth - 1:
            layers.append(acts[activation]())
    return nn.Sequential(*layers)
    ### END SOLUTION


def layer_grad_norms(model: nn.Module, x: torch.Tensor, target: torch.Tensor) -> list:
    """The gradient norm of every linear layer's weight after one backward pass.

    Args:
        model: any module; its ``nn.Linear`` submodules are taken in ``model.modules()`` order
            (for an ``nn.Sequential``: from the input to the output).
        x: the input batch, ``(N, in_features)``.
        target: the regression target, shaped like ``model(x)``.

    The loss is the mean squared error ``F.mse_loss(model(x), target)`` (mean over all
    elements).  Gradients left in ``.grad`` by earlier backward passes must not leak into the
    result, and the model's parameters are not changed.

    Returns:
        a list of Python floats, one per ``nn.Linear`` (its ``weight``, not its bias): the
        Frobenius norm ``||dLoss/dW||``, first layer first.
    """
    ### BEGIN SOLUTION
    model.zero_grad(set_to_none=True)
    loss = F.mse_loss(model(x), target)
    loss.backward()
    return [m.weight.grad.norm().item() for m in model.modules() if isinstance(m, nn.Linear)]
    ### END SOLUTION


def gradients_vanish(norms: Union[Sequence[float], torch.Tensor], threshold: float = 1e-3) -> bool:
    """Whether the gradient vanishes on its way from the last layer back to the first.

    Args:
        norms: per-layer gradient norms, first layer first (a list of floats or a 1-D tensor).
        threshold: the largest ratio that still counts as vanishing.

    Returns:
        ``True`` when ``norms[0] / norms[-1] < threshold``; ``False`` when ``norms[-1]`` is 0 (the
        ratio is then undefined or infinite) -- a Python bool.
    """
    ### BEGIN SOLUTION
    first, last = float(norms[0]), float(norms[-1])
    if last == 0.0:
        return False
    return first / last < threshold
    ### END SOLUTION
