# HOSTILE: copies the reference by reading solutions/ and graders/ relative to the working
# directory and to its own file.
# target: fundamentals/gradient_clipping
# expect: not allowed in a graded submission
# alone: no answers found
import os
from pathlib import Path

here = Path(__file__).resolve().parent
candidates = [Path("solutions/fundamentals/gradient_clipping.py"),
              Path("../solutions/fundamentals/gradient_clipping.py"),
              here.parent.parent / "solutions" / "fundamentals" / "gradient_clipping.py",
              here.parent / "gradient_clipping.py"]
for path in candidates:
    if path.exists():
        exec(path.read_text())
        break
else:
    raise RuntimeError("no answers found from " + os.getcwd())
