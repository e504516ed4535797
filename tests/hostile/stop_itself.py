# HOSTILE: stops its own process (SIGSTOP), hoping the grader blocks on it forever.
# target: fundamentals/gradient_clipping
# expect: not allowed in a graded submission
# alone: timed out
import os
import signal


def clip_grad_norm_(parameters, max_norm, norm_type=2.0):
    os.kill(os.getpid(), signal.SIGSTOP)
    return 0.0


def clip_grad_value_(parameters, clip_value):
    os.kill(os.getpid(), signal.SIGSTOP)
