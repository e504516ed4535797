# CHEAT: keeps the original at import time and puts it back over the tripwire's wrapper during
# the graded call, then calls it by its public name.
# target: vision/max_pool2d
# expect: not allowed in a graded submission
# alone: forbidden call
import torch.nn.functional as F

_name = "max_" + "pool2d"
_saved = getattr(F, _name)


def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    setattr(F, _name, _saved)
    return getattr(F, _name)(x, kernel_size, stride, padding, dilation, ceil_mode=ceil_mode,
                             return_indices=return_indices)
