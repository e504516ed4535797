# HOSTILE: hard-exits the process while being imported, skipping every cleanup handler.
# target: fundamentals/gradient_clipping
# expect: exited with code 0
# alone: exited with code 0
import os

os._exit(0)
