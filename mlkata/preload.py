"""Imported by the fork server (see :mod:`mlkata.server`): load the catalog, and -- for the
exercises ``server.start`` named, else all -- every visible check module and the probes of every
hidden grader (never its checks: :mod:`mlkata.probe_source`) once, index where each exercise's
forbidden functions live (the tripwire's scan of every torch module), and load what the kernel
confinement needs (:func:`mlkata.confine.prepare`), so that no child forked from the server does
any of it again.

Failures are left for later on purpose: a broken grader or catalog is reported by the grading
process, which loads the same files itself, with the exercise it belongs to.  (An exception here
would kill the server, and with it every exercise.)
"""
import linecache
import os


def _load_everything() -> None:
    from . import catalog, confine, engine, grading, probe_source, sandbox, server
    confine.prepare()              # the sandbox's own libraries and paths: ~60 ms a child otherwise
    wanted = os.environ.get(server.PRELOAD_ENV)         # set by server.start(exercise_ids)
    try:
        exercises = catalog.select(wanted.split(",") if wanted else None)
    except Exception:  # noqa: BLE001 - see the module docstring
        return
    for ex in exercises:
        try:
            grading.checks_for(ex, hidden=False)
            # the visible checks are public: their lines cached here spare the child a refused read
            # when a warning or a traceback raised in a probe quotes them (never the graders' lines)
            linecache.getlines(str(ex.visible_checks))
            probe_source.load(str(ex.grader), sandbox.probe_module_name("hidden", ex.id))
            engine.warm_tripwire(ex.forbidden)
        except Exception:  # noqa: BLE001 - see the module docstring
            continue


_load_everything()
