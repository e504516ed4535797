# HOSTILE: a second thread hammers the audit hook's shared flag while the main thread opens the
# reference, hoping to land in the window where the hook thinks it is already busy.
# target: fundamentals/gradient_clipping
# expect: not allowed in a graded submission
# alone: grading sandbox
import gc
import sys
import threading
from pathlib import Path

flags = [c.cell_contents for o in gc.get_objects() if callable(o) and getattr(o, "__name__", "") == "hook"
         for c in (getattr(o, "__closure__", None) or ()) if isinstance(c.cell_contents, list)]


def spin():
    for _ in range(10**6):
        for f in flags:
            f[:1] = [True]


threading.Thread(target=spin, daemon=True).start()
source, error = None, None
for _ in range(200):
    try:
        source = (Path(sys.prefix).parent / "solutions" / "fundamentals" / "gradient_clipping.py").read_text()
        break
    except OSError as e:
        error = e
if source is None:
    raise error
namespace = {}
exec(source, namespace)
clip_grad_norm_ = namespace["clip_grad_norm_"]
clip_grad_value_ = namespace["clip_grad_value_"]
