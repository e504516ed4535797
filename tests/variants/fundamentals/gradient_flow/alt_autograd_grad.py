# CORRECT, written differently: weights drawn with torch.randn(generator) and copied in, gradients taken
# with torch.autograd.grad (never touching .grad), norms in float64, the vanishing test done in log space.
import math

import torch
import torch.nn as nn


def make_mlp(in_features, width, out_features, depth, activation="sigmoid", init="xavier", generator=None):
    if depth < 1 or activation not in ("sigmoid", "relu") or init not in ("xavier", "he"):
        raise ValueError(f"bad arguments: depth={depth}, activation={activation!r}, init={init!r}")
    dims = [in_features, *([width] * (depth - 1)), out_features]
    modules = []
    for k in range(depth):
        layer = nn.Linear(dims[k], dims[k + 1])
        fan_out, fan_in = layer.weight.shape
        var = 2.0 / (fan_in + fan_out) if init == "xavier" else 2.0 / fan_in
        w = torch.randn(fan_out, fan_in, generator=generator) * var ** 0.5
        layer.weight.data.copy_(w)
        layer.bias.data.fill_(0.0)
        modules.append(layer)
        modules.append(nn.Sigmoid() if activation == "sigmoid" else nn.ReLU())
    return nn.Sequential(*modules[:-1])


def layer_grad_norms(model, x, target):
    weights = [m.weight for m in model.modules() if isinstance(m, nn.Linear)]
    out = model(x)
    loss = ((out - target) ** 2).mean()
    grads = torch.autograd.grad(loss, weights)
    return [math.sqrt(float((g.double() ** 2).sum())) for g in grads]


def gradients_vanish(norms, threshold=1e-3):
    values = [float(v) for v in norms]
    first, last = values[0], values[-1]
    if last <= 0.0:
        return False
    if first <= 0.0:
        return True
    return bool(math.log(first) - math.log(last) < math.log(threshold))
