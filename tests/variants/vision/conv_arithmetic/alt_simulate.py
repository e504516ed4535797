# CORRECT, written differently: counts window positions with range() instead of a closed form, and
# finds receptive fields by mapping output intervals back through the layers (last layer first).
import math


def conv_output_size(size, kernel_size, stride=1, padding=0, dilation=1, transposed=False, output_padding=0):
    span = dilation * (kernel_size - 1) + 1
    if not transposed:
        # window starts (in padded coordinates) that still leave room for the whole window
        n = len(range(0, size + 2 * padding - span + 1, stride))
    else:
        if not (output_padding < stride or output_padding < dilation):
            raise ValueError("output_padding too large")
        # the last input pixel scatters to the window starting at (size - 1) * stride
        n = (size - 1) * stride + span - 2 * padding + output_padding
    if n <= 0:
        raise ValueError(f"no output left ({n})")
    return n


def pool_output_size(size, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    stride = stride or kernel_size
    if 2 * padding > kernel_size:
        raise ValueError("max-pool padding exceeds half the kernel")
    room = size + 2 * padding - dilation * (kernel_size - 1) - 1
    n = (math.ceil(room / stride) if ceil_mode else math.floor(room / stride)) + 1
    while ceil_mode and n > 0 and (n - 1) * stride - padding >= size:   # last window starts past the input
        n -= 1
    if n <= 0:
        raise ValueError(f"no output left ({n})")
    return n


def _interval(layers, i):
    a, b = i, i
    for layer in reversed(layers):
        s, p = layer.get("stride", 1), layer.get("padding", 0)
        span = layer.get("dilation", 1) * (layer["kernel_size"] - 1) + 1
        a, b = a * s - p, b * s - p + span - 1
    return a, b


def receptive_field(layers):
    a0, b0 = _interval(layers, 0)
    a1, _ = _interval(layers, 1)
    return b0 - a0 + 1, a1 - a0, (a0 + b0) / 2
