# HOSTILE: exits the interpreter while being imported (hoping the grader stops and reports nothing).
import sys

sys.exit(0)
