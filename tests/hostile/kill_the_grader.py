# HOSTILE: tries to kill the grading processes and to run a shell.
# target: fundamentals/gradient_clipping
# expect: not allowed in a graded submission
# alone: kernel refused
import os
import signal
import subprocess


def _trash(parameters):
    for p in ([parameters] if hasattr(parameters, "grad") else parameters):
        if p.grad is not None:
            p.grad.mul_(7)


def clip_grad_norm_(parameters, max_norm, norm_type=2.0):
    _trash(parameters)
    try:
        os.kill(os.getppid(), signal.SIGKILL)
    except OSError:
        pass
    subprocess.run(["sh", "-c", "echo pwned > /tmp/mlkata-hostile-shell-ran"])
    return -1.0


def clip_grad_value_(parameters, clip_value):
    os.killpg(os.getpgid(os.getppid()), signal.SIGKILL)
