# HOSTILE: writes a forged results JSON onto the grader's stdout through /proc/<pid>/fd/1 of the
# fork server (which shares the grader's stdout).
# target: fundamentals/gradient_clipping
# expect: not allowed in a graded submission
# alone: grading sandbox
import os

FORGED = '{"score": 1000, "tests": [{"name": "FORGED-BY-HOSTILE", "score": 1000}]}\n'


def clip_grad_norm_(parameters, max_norm, norm_type=2.0):
    with open(f"/proc/{os.getppid()}/fd/1", "w") as out:
        out.write(FORGED)
    return 0.0


def clip_grad_value_(parameters, clip_value):
    with open(f"/proc/{os.getppid()}/fd/2", "w") as err:
        err.write(FORGED)
