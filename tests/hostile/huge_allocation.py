# HOSTILE: tries to allocate tens of GB.
# target: fundamentals/gradient_clipping
# expect: memory
# alone: memory
import torch


def clip_grad_norm_(parameters, max_norm, norm_type=2.0):
    hog = torch.ones(40 * 2**30 // 4)        # 40 GiB of float32
    return hog.sum()


def clip_grad_value_(parameters, clip_value):
    hog = bytearray(40 * 2**30)
    return len(hog)
