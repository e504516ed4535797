# CHEAT: convolves through torch._C._VariableFunctions, the C bindings behind torch.conv2d.
# target: vision/conv2d_unfold
# expect: not allowed in a graded submission
# alone: forbidden call
import torch

_vf = torch._C._VariableFunctions


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _vf.conv2d(x, weight, bias, stride, padding, dilation, groups)
