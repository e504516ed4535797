# CHEAT: during the graded call, takes the original library function out of the tripwire
# wrapper's __kwdefaults__ and calls it.
# target: fundamentals/gradient_clipping
# expect: not allowed in a graded submission
# alone: forbidden call
import torch


def _original(name):
    fn = getattr(torch.nn.utils, name)
    return (getattr(fn, "__kwdefaults__", None) or {}).get("__original", fn)


def clip_grad_norm_(parameters, max_norm, norm_type=2.0):
    return _original("clip_grad" + "_norm_")(parameters, max_norm, norm_type)


def clip_grad_value_(parameters, clip_value):
    return _original("clip_grad" + "_value_")(parameters, clip_value)
