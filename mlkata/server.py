"""The fork server that sandboxed children and batch workers are forked from.

Kept free of torch on purpose: :func:`start` runs before the grading process imports torch, so the
server's own torch import (1-2 s) runs on another core beside the parent's instead of after it.

The server preloads torch, numpy, the toolkit and -- through :mod:`mlkata.preload` -- the catalog,
the visible check modules and the graders' probes (never their checks).  A child therefore costs a
fork and the learner's import: loading its two check modules itself was ~33 of a child's ~45 ms
(timed phase by phase in the child).
"""
from __future__ import annotations

import multiprocessing as mp
import os
import select
import shutil
import tempfile
import threading
from multiprocessing import forkserver, resource_tracker

PRELOAD = ["torch", "numpy", "mlkata.wire", "mlkata.checks", "mlkata.engine", "mlkata.sandbox",
           "mlkata.grading", "mlkata.preload"]

_CTX = None


def context():
    """The forkserver context every grading process uses."""
    global _CTX
    if _CTX is None:
        _CTX = mp.get_context("forkserver")
        _CTX.set_forkserver_preload(PRELOAD)
        _adopt_inherited_server()
    return _CTX


PRELOAD_ENV = "MLKATA_PRELOAD_EXERCISES"


def start(exercise_ids: list[str] | None = None) -> str:
    """Launch the server now and return at once; it loads its modules while the caller goes on.
    In a process the server forked (a batch worker) there is nothing to launch: it is adopted.

    ``exercise_ids`` limits what the server preloads (default: the whole catalog, ~0.6 s on top
    of its torch import, which a one-exercise ``mlkata check`` would otherwise wait for); a child
    of an exercise left out loads its check modules itself.  Returns the server's socket address.
    """
    context()
    if not _ADOPTED:
        _short_socket_folder()
        saved = os.environ.pop(PRELOAD_ENV, None)
        if exercise_ids:
            os.environ[PRELOAD_ENV] = ",".join(exercise_ids)    # the server inherits our environment
        try:
            forkserver.ensure_running()
        finally:
            os.environ.pop(PRELOAD_ENV, None)
            if saved is not None:
                os.environ[PRELOAD_ENV] = saved
    return forkserver._forkserver._forkserver_address


# A Unix socket's path holds at most 107 bytes; multiprocessing puts the server's socket in a
# folder under TMPDIR (~40 bytes of its own), and a deep TMPDIR (pytest's, a CI runner's) made
# the server fail with "AF_UNIX path too long".
_SOCKET_PATH_ROOM = 60


def _short_socket_folder() -> None:
    from multiprocessing import process, util
    config = process.current_process()._config
    if config.get("tempdir") is None and len(tempfile.gettempdir()) > _SOCKET_PATH_ROOM:
        folder = tempfile.mkdtemp(prefix="mlkata-mp-", dir="/tmp")
        util.Finalize(None, shutil.rmtree, args=(folder, True), exitpriority=-100)
        config["tempdir"] = folder


_ADOPTED = False


def _adopt_inherited_server() -> None:
    """Use the server this process was forked from, if any.

    A process the server forked (a batch worker) inherits the server's address and its end of the
    server's "alive" pipe, but multiprocessing trusts only a server it launched itself and would
    launch a second one -- another torch import and catalog load in every worker.  Two doors lead
    there: ``ForkServer.connect_to_new_process`` calls ``self.ensure_running`` (shadowed on the
    instance below) and the module-level ``forkserver.ensure_running``, a method bound at import,
    which :func:`start` no longer calls once adopted.
    """
    global _ADOPTED
    server = getattr(forkserver, "_forkserver", None)
    inherited = server is not None and getattr(server, "_forkserver_pid", 0) is None and \
        getattr(server, "_forkserver_address", None) is not None and \
        getattr(server, "_forkserver_alive_fd", None) is not None
    if inherited:
        server.ensure_running = resource_tracker.ensure_running
        _ADOPTED = True


def release_alive_pipe() -> None:
    """Close this process's copy of the server's "alive" pipe (for a sandboxed child).

    The server exits when every process holding the pipe's write end is gone, and each process
    it forks inherits one.  A spinning child that kept its copy would keep the server alive after
    the grader was killed -- and the server's death is what kills the child (PR_SET_PDEATHSIG).
    """
    server = getattr(forkserver, "_forkserver", None)
    fd = getattr(server, "_forkserver_alive_fd", None)
    if fd is not None:
        try:
            os.close(fd)
        except OSError:
            pass
        server._forkserver_alive_fd = None


def exit_with(pid: int) -> None:
    """Exit this process as soon as process ``pid`` has ended (for a batch worker, whose pool
    would otherwise wait forever for work from a grader that was killed)."""
    def watch() -> None:
        try:
            fd = os.pidfd_open(pid)
        except (AttributeError, OSError):         # no pidfd (old kernel): ask once a second
            while _exists(pid):
                threading.Event().wait(1.0)
        else:
            select.select([fd], [], [])
        os._exit(1)

    threading.Thread(target=watch, name="mlkata-exit-with-grader", daemon=True).start()


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
