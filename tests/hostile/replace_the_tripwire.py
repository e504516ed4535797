# CHEAT: replaces the toolkit's tripwire with a no-op through sys.modules, then calls the
# forbidden library function reached by a computed name (the source scan looks for names).
# target: fundamentals/gradient_clipping
# expect: not allowed in a graded submission
# alone: forbidden call
import contextlib
import sys

import torch

engine = sys.modules["mlkata.engine"]
engine.tripwire = lambda forbidden: contextlib.nullcontext([])
_clip = getattr(torch.nn.utils, "clip_grad" + "_norm_")
_value = getattr(torch.nn.utils, "clip_grad" + "_value_")


def clip_grad_norm_(parameters, max_norm, norm_type=2.0):
    return _clip(parameters, max_norm, norm_type)


def clip_grad_value_(parameters, clip_value):
    return _value(parameters, clip_value)
