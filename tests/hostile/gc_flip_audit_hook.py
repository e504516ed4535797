# HOSTILE: finds the sandbox's audit hook through the garbage collector and flips its "busy" flag,
# so that the hook lets everything through; then copies the reference.
# target: fundamentals/gradient_clipping
# expect: not allowed in a graded submission
# alone: grading sandbox
import gc
import sys
from pathlib import Path

for obj in gc.get_objects():
    if callable(obj) and getattr(obj, "__name__", "") == "hook" and getattr(obj, "__closure__", None):
        for cell in obj.__closure__:
            if isinstance(cell.cell_contents, list) and cell.cell_contents == [False]:
                cell.cell_contents[0] = True
namespace = {}
exec((Path(sys.prefix).parent / "solutions" / "fundamentals" / "gradient_clipping.py").read_text(), namespace)
clip_grad_norm_ = namespace["clip_grad_norm_"]
clip_grad_value_ = namespace["clip_grad_value_"]
