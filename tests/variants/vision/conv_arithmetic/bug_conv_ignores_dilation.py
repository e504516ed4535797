# BUG: the conv formula uses kernel_size where the dilated span dilation*(k-1)+1 belongs.
def conv_output_size(size, kernel_size, stride=1, padding=0, dilation=1, transposed=False, output_padding=0):
    span = dilation * (kernel_size - 1) + 1
    if transposed:
        if output_padding >= stride and output_padding >= dilation:
            raise ValueError("output_padding must be smaller than stride or dilation")
        out = (size - 1) * stride - 2 * padding + span + output_padding
    else:
        out = (size + 2 * padding - kernel_size) // stride + 1
    if out < 1:
        raise ValueError("output size < 1")
    return out


def pool_output_size(size, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    stride = kernel_size if stride is None else stride
    if padding > kernel_size // 2:
        raise ValueError("padding must be at most half the kernel size")
    room = size + 2 * padding - dilation * (kernel_size - 1) - 1
    if ceil_mode:
        out = -(-room // stride) + 1
        if (out - 1) * stride >= size + padding:
            out -= 1
    else:
        out = room // stride + 1
    if out < 1:
        raise ValueError("output size < 1")
    return out


def receptive_field(layers):
    rf, jump, start = 1, 1, 0.0
    for layer in layers:
        k = layer["kernel_size"]
        s, p, d = layer.get("stride", 1), layer.get("padding", 0), layer.get("dilation", 1)
        span = d * (k - 1) + 1
        start += ((span - 1) / 2 - p) * jump
        rf += (span - 1) * jump
        jump *= s
    return rf, jump, start
