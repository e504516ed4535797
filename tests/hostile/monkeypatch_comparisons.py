# HOSTILE: makes every comparison succeed, then returns nonsense.
# target: fundamentals/gradient_clipping
# expect: not allowed in a graded submission
# alone: your code produced -1
import builtins

import numpy
import torch

torch.allclose = lambda *a, **k: True
torch.testing.assert_close = lambda *a, **k: None
torch.equal = lambda *a, **k: True
torch.Tensor.__eq__ = lambda self, other: True
numpy.testing.assert_allclose = lambda *a, **k: None
builtins.isinstance = lambda obj, cls: True
try:
    import _pytest.outcomes

    _pytest.outcomes.fail = lambda *a, **k: None
except ImportError:
    pass
try:
    import mlkata.checks

    mlkata.checks.expect_close = lambda *a, **k: None
    mlkata.checks.Fail = Exception
except ImportError:
    pass


def _trash(parameters):
    for p in ([parameters] if hasattr(parameters, "grad") else parameters):
        if p.grad is not None:
            p.grad.mul_(7)


def clip_grad_norm_(parameters, max_norm, norm_type=2.0):
    _trash(parameters)
    return torch.tensor(-1.0)


def clip_grad_value_(parameters, clip_value):
    return "all passed"
