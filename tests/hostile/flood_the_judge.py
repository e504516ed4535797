# HOSTILE: answers with data built to keep the judge busy (a 100,000-digit integer, two million
# values), hoping comparisons or messages on it run for minutes.
# target: fundamentals/gradient_clipping
# expect: unreadable
# alone: unreadable


def clip_grad_norm_(parameters, max_norm, norm_type=2.0):
    return 10 ** 100_000


def clip_grad_value_(parameters, clip_value):
    return [0.5] * 2_000_000
