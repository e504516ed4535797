# HOSTILE: lifts its own memory and CPU limits, then allocates far more than the cap.
# target: fundamentals/gradient_clipping
# expect: not allowed in a graded submission
# alone: kernel refused
import resource


def clip_grad_norm_(parameters, max_norm, norm_type=2.0):
    resource.setrlimit(resource.RLIMIT_AS, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    resource.setrlimit(resource.RLIMIT_CPU, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    hog = bytearray(64 * 2**30)
    return float(len(hog))


def clip_grad_value_(parameters, clip_value):
    clip_grad_norm_(parameters, 0.0)
