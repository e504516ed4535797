# HOSTILE: hard-links the reference into its own working folder through src_dir_fd=, then reads
# the link (which is inside the folder it may read).
# target: fundamentals/gradient_clipping
# expect: not allowed in a graded submission
# alone: [Errno
import os
import sys

root = os.open(os.path.dirname(sys.prefix), os.O_RDONLY | os.O_DIRECTORY)
os.link("solutions/fundamentals/gradient_clipping.py", "stolen.py", src_dir_fd=root)
namespace = {}
exec(open("stolen.py").read(), namespace)
clip_grad_norm_ = namespace["clip_grad_norm_"]
clip_grad_value_ = namespace["clip_grad_value_"]
