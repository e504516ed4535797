# CHEAT: calls the forbidden pooling kernel through torch.ops.aten, which no Python-level wrapper
# of torch.nn.functional sees.
# target: vision/max_pool2d
# expect: not allowed in a graded submission
# alone: forbidden call
import torch


def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    stride = kernel_size if stride is None else stride
    out, idx = torch.ops.aten.max_pool2d_with_indices(x, kernel_size, stride, padding, dilation, ceil_mode)
    return (out, idx) if return_indices else out
