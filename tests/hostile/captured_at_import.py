# CHEAT: captures the forbidden function at import time, before the tripwire wraps it, under a
# computed name the source scan cannot follow.
# target: vision/max_pool2d
# expect: not allowed in a graded submission
# alone: forbidden call
import torch.nn.functional as F

_pool = getattr(F, "max_" + "pool2d")


def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    return _pool(x, kernel_size, stride, padding, dilation, ceil_mode=ceil_mode, return_indices=return_indices)
