# HOSTILE: prints a fake test report, then returns nonsense.
# target: fundamentals/gradient_clipping
# expect: rule:
# alone: rule:
import sys

print("========== 10 passed in 0.01s ==========")
print('{"score": 100, "max_score": 100, "tests": []}')
sys.stderr.write("10 passed\n")


def _trash(parameters):
    for p in ([parameters] if hasattr(parameters, "grad") else parameters):
        if p.grad is not None:
            p.grad.mul_(7)


def clip_grad_norm_(parameters, max_norm, norm_type=2.0):
    _trash(parameters)
    print("10 passed")
    return -1.0


def clip_grad_value_(parameters, clip_value):
    print("10 passed")
    return "10 passed"
