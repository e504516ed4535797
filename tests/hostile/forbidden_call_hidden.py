# CHEAT: reaches the forbidden function through a computed name, to dodge a source scan.
# target: fundamentals/gradient_clipping
# expect: not allowed in a graded submission
# alone: forbidden call
import importlib

_utils = importlib.import_module("torch.nn." + "utils")
_norm = getattr(_utils, "clip_grad" + "_norm_")
_value = getattr(_utils, "clip_grad" + "_value_")


def clip_grad_norm_(parameters, max_norm, norm_type=2.0):
    return _norm(parameters, max_norm, norm_type)


def clip_grad_value_(parameters, clip_value):
    _value(parameters, clip_value)
