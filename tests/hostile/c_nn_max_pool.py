# CHEAT: reaches the pooling kernel through torch._C._nn by a computed attribute.
# target: vision/max_pool2d
# expect: not allowed in a graded submission
# alone: forbidden call
import torch

_nn = getattr(torch, "_C")._nn


def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    stride = kernel_size if stride is None else stride
    out, idx = getattr(_nn, "max_pool2d_" + "with_indices")(x, kernel_size, stride, padding, dilation, ceil_mode)
    return (out, idx) if return_indices else out
