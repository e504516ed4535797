# HOSTILE: runs `cat` on the reference through _posixsubprocess.fork_exec, which the audit hook
# never sees, and leaves the child behind.
# target: fundamentals/gradient_clipping
# expect: not allowed in a graded submission
# alone: kernel refused
import os
import sys

import _posixsubprocess

SOLUTION = os.path.join(os.path.dirname(sys.prefix), "solutions", "fundamentals", "gradient_clipping.py")


def _run(argv):
    r, w = os.pipe()
    errpipe_read, errpipe_write = os.pipe()
    _posixsubprocess.fork_exec(argv, [os.fsencode("/bin/" + argv[0])], True, (w,), None, None,
                               -1, -1, -1, w, -1, -1, errpipe_read, errpipe_write,
                               True, False, -1, None, None, None, -1, None, True)
    os.close(w)
    return os.read(r, 1 << 20).decode()


def clip_grad_norm_(parameters, max_norm, norm_type=2.0):
    namespace = {}
    exec(_run(["cat", SOLUTION]), namespace)
    return namespace["clip_grad_norm_"](parameters, max_norm, norm_type)


def clip_grad_value_(parameters, clip_value):
    _run(["sleep", "100000"])
