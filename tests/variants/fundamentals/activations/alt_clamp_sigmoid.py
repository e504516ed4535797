# CORRECT, written differently: pieces from clamps instead of torch.where, GELU through erfc / ndtr,
# the tanh form rewritten with the logistic sigmoid (0.5 (1 + tanh z) = sigmoid(2 z)).
import math

import torch

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
_K = math.sqrt(2 / math.pi)
_C = 0.044715


def leaky_relu(x, negative_slope=0.01):
    return x.clamp(min=0) + negative_slope * x.clamp(max=0)


def leaky_relu_grad(x, negative_slope=0.01):
    pos = (x > 0).to(x.dtype)
    return pos + negative_slope * (1 - pos)


def elu(x, alpha=1.0):
    return x.clamp(min=0) + alpha * torch.expm1(x.clamp(max=0))


def elu_grad(x, alpha=1.0):
    neg = x <= 0
    out = torch.ones_like(x)
    out[neg] = alpha * torch.exp(x[neg])
    return out


def selu(x):
    return SELU_SCALE * x.clamp(min=0) + (SELU_SCALE * SELU_ALPHA) * torch.expm1(x.clamp(max=0))


def selu_grad(x):
    return elu_grad(x, SELU_ALPHA) * SELU_SCALE


def _check(approximate):
    if approximate not in ("none", "tanh"):
        raise ValueError(approximate)


def gelu(x, approximate="none"):
    _check(approximate)
    if approximate == "tanh":
        return x * torch.sigmoid(2 * _K * (x + _C * x.pow(3)))
    return 0.5 * x * torch.erfc(-x / math.sqrt(2))


def gelu_grad(x, approximate="none"):
    _check(approximate)
    if approximate == "tanh":
        s = torch.sigmoid(2 * _K * (x + _C * x.pow(3)))
        dz = 2 * _K * (1 + 3 * _C * x.pow(2))        # derivative of the sigmoid's argument
        return s + x * s * (1 - s) * dz
    return torch.special.ndtr(x) + x * torch.exp(-x.pow(2) / 2) / math.sqrt(2 * math.pi)
