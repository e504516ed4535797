# HOSTILE: searches its own process for the hidden graders' checks (to copy their expectations),
# through the garbage collector, every loaded module, and the raw memory in /proc/self/mem.
# target: fundamentals/gradient_clipping
# expect: not allowed in a graded submission
# alone: no hidden check in memory
import gc
import sys


def _is_hidden_check(obj) -> bool:
    fn = getattr(obj, "fn", None) if type(obj).__name__ == "Check" else None
    code = getattr(fn, "__code__", None)
    return code is not None and "/graders/" in code.co_filename


def _leaks() -> list[str]:
    found = [f"check {o.name}" for o in gc.get_objects() if _is_hidden_check(o)]
    for module in list(sys.modules.values()):
        found += [f"check {k} in {module.__name__}" for k, v in list(vars(module).items()) if _is_hidden_check(v)]
    try:
        with open("/proc/self/mem", "rb"):
            found.append("/proc/self/mem is readable")
    except OSError:
        pass
    return found


def clip_grad_norm_(parameters, max_norm, norm_type=2.0):
    for p in ([parameters] if hasattr(parameters, "grad") else parameters):
        if p.grad is not None:
            p.grad.mul_(7)          # wrong on purpose: only a leak could have made this pass
    leaks = _leaks()
    return f"leaked: {leaks[:3]}" if leaks else "no hidden check in memory"


def clip_grad_value_(parameters, clip_value):
    return clip_grad_norm_(parameters, clip_value)
