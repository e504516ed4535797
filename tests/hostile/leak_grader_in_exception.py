# HOSTILE: reads the hidden grader and sends its text back inside an exception message, i.e.
# into the feedback.
# target: fundamentals/gradient_clipping
# expect: grading sandbox
# alone: grading sandbox
import sys
from pathlib import Path

GRADER = Path(sys.prefix).parent / "graders" / "fundamentals" / "gradient_clipping.py"


def clip_grad_norm_(parameters, max_norm, norm_type=2.0):
    raise ValueError(GRADER.read_text())


def clip_grad_value_(parameters, clip_value):
    raise ValueError(GRADER.read_text()[2000:6000])
