# HOSTILE: opens the repository as a directory fd and reads the reference through dir_fd=, which
# a path check on the open() call never sees; then runs it.
# target: fundamentals/gradient_clipping
# expect: not allowed in a graded submission
# alone: grading sandbox
import os
import sys

root = os.open(os.path.dirname(sys.prefix), os.O_RDONLY | os.O_DIRECTORY)
fd = os.open("solutions/fundamentals/gradient_clipping.py", os.O_RDONLY, dir_fd=root)
with os.fdopen(fd) as f:
    source = f.read()
namespace = {}
exec(source, namespace)
clip_grad_norm_ = namespace["clip_grad_norm_"]
clip_grad_value_ = namespace["clip_grad_value_"]
