# BROKEN: imports a package that does not exist.
# target: fundamentals/gradient_clipping
# expect: ModuleNotFoundError
# alone: ModuleNotFoundError
import a_package_that_does_not_exist  # noqa: F401


def clip_grad_norm_(parameters, max_norm, norm_type=2.0):
    return 0
