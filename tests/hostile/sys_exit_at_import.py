# HOSTILE: exits the interpreter while being imported (hoping the grader stops and reports nothing).
# target: fundamentals/gradient_clipping
# expect: sys.exit(0)
# alone: sys.exit(0)
import sys

sys.exit(0)
