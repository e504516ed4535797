# CHEAT: reaches the forbidden function through another torch module's own import of it, a path
# no list of forbidden names spells out.
# target: vision/max_pool2d
# expect: forbidden call
# alone: forbidden call
import torch.nn.modules.pooling as pooling


def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    return pooling.F.max_pool2d(x, kernel_size, stride, padding, dilation, ceil_mode=ceil_mode,
                                return_indices=return_indices)
