# HOSTILE: forks a child that outlives the grading run (a process left behind on the grader).
# target: fundamentals/gradient_clipping
# expect: not allowed in a graded submission
# alone: kernel refused
import os
import time

if os.fork() == 0:
    os.setsid()
    time.sleep(10**6)
    os._exit(0)


def clip_grad_norm_(parameters, max_norm, norm_type=2.0):
    return -1.0


def clip_grad_value_(parameters, clip_value):
    return None
