# HOSTILE: reads a secret planted outside the project (any file the grader's user can read) and
# returns it inside an error message.
# target: fundamentals/gradient_clipping
# expect: grading sandbox
# alone: grading sandbox
CANARY = "/tmp/mlkata-hostile-canary/secret.txt"


def clip_grad_norm_(parameters, max_norm, norm_type=2.0):
    raise RuntimeError(open(CANARY).read())


def clip_grad_value_(parameters, clip_value):
    raise RuntimeError(open(CANARY).read())
