# HOSTILE: returns an object that claims to equal anything.
# target: fundamentals/gradient_clipping
# expect: AnythingObj
# alone: AnythingObj
class Anything(float):
    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    def __abs__(self):
        return 0.0

    def __sub__(self, other):
        return 0.0

    __rsub__ = __sub__


class AnythingObj:
    def __eq__(self, other):
        return True

    def __getattr__(self, name):
        return self

    def __call__(self, *a, **k):
        return self


def _trash(parameters):
    for p in ([parameters] if hasattr(parameters, "grad") else parameters):
        if p.grad is not None:
            p.grad.mul_(7)


def clip_grad_norm_(parameters, max_norm, norm_type=2.0):
    _trash(parameters)
    return AnythingObj()


def clip_grad_value_(parameters, clip_value):
    return AnythingObj()
