# HOSTILE: looks for the other exercises' grading folders in the temp directory (they run side
# by side) and copies whatever solution files it finds there.
# target: fundamentals/gradient_clipping
# expect: grading sandbox
# alone: grading sandbox
import os

found = []
for folder in os.listdir("/tmp"):
    if folder.startswith("mlkata-"):
        for name in os.listdir(os.path.join("/tmp", folder)):
            found.append(open(os.path.join("/tmp", folder, name)).read())


def clip_grad_norm_(parameters, max_norm, norm_type=2.0):
    raise RuntimeError("\n".join(found))


def clip_grad_value_(parameters, clip_value):
    raise RuntimeError("\n".join(found))
