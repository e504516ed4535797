# BUG: uses the summed squared error instead of the mean (F.mse_loss's default reduction).
import math
from typing import Optional, Sequence, Union

import torch
import torch.nn as nn
import torch.nn.functional as F


def make_mlp(in_features: int, width: int, out_features: int, depth: int, activation: str = "sigmoid",
             init: str = "xavier", generator: Optional[torch.Generator] = None) -> nn.Sequential:
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


def layer_grad_norms(model: nn.Module, x: torch.Tensor, target: torch.Tensor) -> list:
    model.zero_grad(set_to_none=True)
    loss = ((model(x) - target) ** 2).sum()
    loss.backward()
    return [m.weight.grad.norm().item() for m in model.modules() if isinstance(m, nn.Linear)]


def gradients_vanish(norms: Union[Sequence[float], torch.Tensor], threshold: float = 1e-3) -> bool:
    first, last = float(norms[0]), float(norms[-1])
    if last == 0.0:
        return False
    return first / last < threshold
