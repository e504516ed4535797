# HOSTILE: never returns.
# target: fundamentals/gradient_clipping
# expect: timed out
# alone: timed out
def clip_grad_norm_(parameters, max_norm, norm_type=2.0):
    while True:
        pass


def clip_grad_value_(parameters, clip_value):
    while True:
        pass
