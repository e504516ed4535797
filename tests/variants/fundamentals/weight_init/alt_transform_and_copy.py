# CORRECT, written differently: a gain table, fans from a flattened view, samples drawn with
# torch.rand / torch.randn (inverse transforms) and copied into the weight under no_grad.
import math

import torch

_GAINS = {"linear": 1.0, "conv1d": 1.0, "conv2d": 1.0, "conv3d": 1.0, "sigmoid": 1.0,
          "tanh": 5.0 / 3, "relu": math.sqrt(2.0), "selu": 0.75}


def calculate_gain(nonlinearity, param=None):
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        return (2.0 / (1.0 + slope * slope)) ** 0.5
    try:
        return _GAINS[nonlinearity]
    except KeyError:
        raise ValueError(f"no gain for {nonlinearity}") from None


def calculate_fan_in_and_fan_out(tensor):
    if tensor.ndim < 2:
        raise ValueError("fans need a weight with >= 2 dims")
    out_ch, in_ch = tensor.shape[0], tensor.shape[1]
    receptive = 1
    for k in tensor.shape[2:]:
        receptive *= int(k)
    return int(in_ch * receptive), int(out_ch * receptive)


def xavier_uniform_(tensor, gain=1.0, generator=None):
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    bound = math.sqrt(3.0) * std                        # U(-b, b) has std b / sqrt(3)
    u = torch.rand(tensor.shape, generator=generator, dtype=tensor.dtype)
    with torch.no_grad():
        tensor.copy_((2 * u - 1) * bound)
    return tensor


def kaiming_normal_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    fans = dict(zip(("fan_in", "fan_out"), calculate_fan_in_and_fan_out(tensor))) if tensor.ndim >= 2 else {}
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(mode)
    if 0 in tensor.shape:
        return tensor
    var = calculate_gain(nonlinearity, a) ** 2 / fans[mode]
    z = torch.randn(tensor.shape, generator=generator, dtype=tensor.dtype)
    with torch.no_grad():
        tensor.copy_(z * math.sqrt(var))
    return tensor
