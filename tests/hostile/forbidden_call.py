# CHEAT: calls the library function the exercise asks to write.
# target: fundamentals/gradient_clipping
# expect: forbidden call
# alone: forbidden call
import torch


def clip_grad_norm_(parameters, max_norm, norm_type=2.0):
    return torch.nn.utils.clip_grad_norm_(parameters, max_norm, norm_type)


def clip_grad_value_(parameters, clip_value):
    torch.nn.utils.clip_grad_value_(parameters, clip_value)
