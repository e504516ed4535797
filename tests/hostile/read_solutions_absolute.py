# HOSTILE: finds the repository through the installed toolkit and copies the reference.
# target: fundamentals/gradient_clipping
# expect: not allowed in a graded submission
# alone: grading sandbox
from pathlib import Path

import mlkata

repo = Path(mlkata.__file__).resolve().parent.parent
print(sorted(p.name for p in (repo / "graders").iterdir()))
exec((repo / "solutions" / "fundamentals" / "gradient_clipping.py").read_text())
