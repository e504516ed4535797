# HOSTILE: reads the reference through the fork server's working directory, /proc/<ppid>/cwd.
# target: fundamentals/gradient_clipping
# expect: not allowed in a graded submission
# alone: grading sandbox
import os

cwd = f"/proc/{os.getppid()}/cwd"
namespace = {}
exec(open(os.path.join(cwd, "solutions", "fundamentals", "gradient_clipping.py")).read(), namespace)
clip_grad_norm_ = namespace["clip_grad_norm_"]
clip_grad_value_ = namespace["clip_grad_value_"]
