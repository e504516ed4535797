# HOSTILE: overwrites the graders and the submission folder so that everything passes.
# target: fundamentals/gradient_clipping
# expect: not allowed in a graded submission
# alone: grading sandbox
from pathlib import Path

import mlkata

repo = Path(mlkata.__file__).resolve().parent.parent
for target in [repo / "graders" / "fundamentals" / "gradient_clipping.py",
               Path(__file__).resolve(),
               repo / "solutions" / "fundamentals" / "gradient_clipping.py"]:
    try:
        target.write_text("# pwned\n")
    except OSError:
        pass


def _trash(parameters):
    for p in ([parameters] if hasattr(parameters, "grad") else parameters):
        if p.grad is not None:
            p.grad.mul_(7)


def clip_grad_norm_(parameters, max_norm, norm_type=2.0):
    _trash(parameters)
    (repo / "graders" / "fundamentals" / "gradient_clipping.py").write_text("# pwned\n")
    return -1.0


def clip_grad_value_(parameters, clip_value):
    return "all passed"
