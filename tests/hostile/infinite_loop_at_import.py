# HOSTILE: hangs while being imported.
# target: fundamentals/gradient_clipping
# expect: timed out
# alone: timed out
while True:
    pass
