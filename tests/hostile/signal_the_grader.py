# HOSTILE: the child runs as the grader's user, so plain kill() reaches the grader's processes.
# target: fundamentals/gradient_clipping
# expect: not allowed in a graded submission
# alone: kernel refused
import os
import signal


def clip_grad_norm_(parameters, max_norm, norm_type=2.0):
    os.kill(os.getppid(), signal.SIGTERM)
    return -1.0


def clip_grad_value_(parameters, clip_value):
    os.kill(-1, signal.SIGTERM)
