"""Imported by the fork server (see :mod:`mlkata.server`): load the catalog and every check module
once, so that no child or batch worker forked from the server loads them again.

Failures are left for later on purpose: a broken grader or catalog is reported by the grading
process, which loads the same files itself, with the exercise it belongs to.  (An exception here
would kill the server, and with it every exercise.)
"""


def _load_everything() -> None:
    from . import catalog, grading
    try:
        exercises = catalog.select(None)
    except Exception:  # noqa: BLE001 - see the module docstring
        return
    for ex in exercises:
        try:
            grading.checks_for(ex)
        except Exception:  # noqa: BLE001 - see the module docstring
            continue


_load_everything()
