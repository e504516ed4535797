# HOSTILE (or just broken): does not parse.
# target: fundamentals/gradient_clipping
# expect: SyntaxError
# alone: SyntaxError
def clip_grad_norm_(parameters, max_norm norm_type=2.0):
    return 0
