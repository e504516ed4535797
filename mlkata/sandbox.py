"""Isolated sessions: the learner's code runs in a child process the judge does not trust.

Design (why each piece is there):

* **Fork server.**  Children are forked from a ``multiprocessing`` forkserver that has already
  imported torch, numpy, the visible check modules and the graders' probes (:mod:`mlkata.server`),
  so a child costs a fork and the learner's import (~12 ms here), not a torch import (~1.5 s).
  The forkserver itself runs no tensor ops, so no intra-op thread pool is forked half-alive.
* **Verdicts in the parent.**  The child imports the learner's module and answers probe calls
  with plain data (see :mod:`mlkata.wire`, whose reader builds nothing but plain data).
  Expected values and comparisons are computed in the parent, which never imports the
  learner's code -- so monkeypatching ``torch.allclose``, ``builtins.isinstance`` or pytest in
  the child changes nothing, and an object whose ``__eq__`` lies cannot cross the pipe.
* **Limits.**  The child starts a new session (a ``kill(0, ...)`` hits only itself), caps its
  address space and file sizes with ``resource``, redirects stdout/stderr (printing
  "10 passed" reaches nobody), and each call has a wall-clock timeout after which the parent
  kills the child's process group.
* **No hidden checks in the child.**  A hidden grader's probes reach the child through a pruned
  copy of its source (:mod:`mlkata.probe_source`); its checks and oracles never run there, so
  they are not in the learner's process to be found.
* **No access to answers.**  The child works in a temporary folder holding only a copy of the
  learner's file; an audit hook (installed before the learner's import, irremovable from
  Python) refuses opening or listing the protected folders (graders, solutions, catalog, tests,
  the original submission), writes outside the temporary folder, subprocesses, signals to other
  processes, sockets and ctypes.  This is a strong fence for Python code, not a kernel sandbox:
  see the README's "What is and is not defended".
"""
from __future__ import annotations

import math
import multiprocessing as mp
import os
import pickle
import shutil
import signal
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from multiprocessing import reduction

from . import confine, engine, probe_source, server, wire

DEFAULT_CALL_TIMEOUT = 20.0       # seconds for one probe call (import included in the first)
DEFAULT_MEMORY = 4 * 2**30        # bytes of address space above what torch already maps
MAX_TIMEOUTS = 2                  # after this many hung checks, an exercise's other checks are not run

def context():
    """The forkserver context (see :mod:`mlkata.server`)."""
    return server.context()


_WARM = False


def _noop() -> None:
    pass


def warm_up() -> None:
    """Start the fork server (it imports torch: seconds) before any learner's clock starts."""
    global _WARM
    if not _WARM:
        server.start()
        proc = context().Process(target=_noop)
        with _main_hidden():
            proc.start()
        proc.join()
        _WARM = True


@dataclass
class Job:
    """Everything a child needs, sent (pickled) from the trusted parent."""

    student_file: str                       # the learner's file, original path (for messages)
    module_name: str
    probe_modules: dict[str, str]           # module name -> path of a visible check module (loaded whole)
    hidden_probe_modules: dict[str, str] = field(default_factory=dict)   # graders: only their probes
    forbidden: list[str] = field(default_factory=list)
    protected: list[str] = field(default_factory=list)
    memory_bytes: int = DEFAULT_MEMORY
    cpu_seconds: int = 300
    confine: bool = True                    # apply the kernel layers (mlkata.confine)
    audit_hook: bool = True                 # the Python-level fence too (off: test the kernel alone)


# --------------------------------------------------------------------------------------------
# Parent side
# --------------------------------------------------------------------------------------------

class IsolatedSession:
    """A child process serving probe calls for one exercise of one submission.

    If the child dies (timeout, crash, exit), the next call starts a fresh one, so one hung
    check costs that check, not the rest of the exercise -- up to ``MAX_TIMEOUTS`` hung checks,
    after which the exercise's remaining checks fail at once (an endless loop in every function
    should not cost the class minutes).
    """

    def __init__(self, job: Job, call_timeout: float = DEFAULT_CALL_TIMEOUT, budget: float = 120.0,
                 require_isolation: bool = False):
        self.job = job
        self.require_isolation = require_isolation
        self.call_timeout = call_timeout
        self.budget = budget
        self.deadline = math.inf      # set at the first call: the server's start is not the learner's time
        self.workdir = tempfile.mkdtemp(prefix="mlkata-")
        self.local_copy = os.path.join(self.workdir, os.path.basename(job.student_file))
        if os.path.exists(job.student_file):
            shutil.copyfile(job.student_file, self.local_copy)
        self.proc = None
        self.conn = None
        self.import_error: dict | None = None
        self.timeouts = 0
        self.sandbox_log: list[str] = []    # what the audit hook refused (notes)
        self.attempts: list[str] = []       # ... of it, what no honest code does (zeroes the exercise)
        self.refusals: confine.Refusals | None = None   # the kernel's reports of refused calls
        self.refused: list[confine.Refusal] = []        # ... of every child this session started
        self.confinement: dict | None = None            # what the last child applied

    # A call returns a plain-data record, as engine.invoke does in-process.
    def call(self, target, args, kwargs):
        if self.import_error is not None:
            return self.import_error
        if self.deadline == math.inf:
            warm_up()
            self.deadline = time.monotonic() + self.budget
        if self.timeouts >= MAX_TIMEOUTS:
            return engine._error("timeout", f"not run: {self.timeouts} earlier checks of this exercise timed out")
        if time.monotonic() > self.deadline:
            return engine._error("timeout", "the exercise's time budget ran out before this check")
        if self.proc is None:
            failure = self._start()
            if failure is not None:
                self.import_error = failure   # the module cannot be imported: every check fails alike
                return failure
        try:
            # Not multiprocessing's pickling: torch registers reducers there that pass tensors
            # through shared memory, which the sandbox (rightly) does not allow.
            self.conn.send_bytes(wire.dumps_request((target, args, kwargs)))
        except (BrokenPipeError, OSError):
            return self._died("while receiving a request")
        return self._reply()

    def _start(self) -> dict | None:
        ctx = context()
        parent_conn, child_conn = ctx.Pipe(duplex=True)
        self.proc = ctx.Process(target=child_main, args=(child_conn, self.job, self.workdir,
                                                         self.local_copy), daemon=True)
        try:
            with _main_hidden():
                self.proc.start()
        except Exception as e:  # noqa: BLE001 - the grader's fault, not the learner's: say so
            self.proc = None
            child_conn.close()
            parent_conn.close()
            return engine._error("crashed", f"could not start the grading process ({type(e).__name__}: {e})")
        child_conn.close()
        self.conn = parent_conn
        ready = self._reply(starting=True)
        if "confined" in ready:
            failure = self._take_confinement(ready["confined"])
            if failure is not None:
                self._kill()
                return failure
            ready = self._reply(starting=True)
        if "__error__" in ready:
            self._kill()
            return ready
        return None

    def _take_confinement(self, report) -> dict | None:
        """Read the child's report of the layers it applied, and take its seccomp listener.

        The report comes before the learner's module is imported, so it is the toolkit speaking."""
        if not isinstance(report, dict):
            return engine._error("unreadable", "the grading process sent a malformed confinement report")
        self.confinement = report
        if report.get("listener"):
            if not self.conn.poll(self.call_timeout):
                return engine._error("crashed", "the grading process did not hand over its seccomp listener")
            self.refusals = confine.Refusals(reduction.recv_handle(self.conn))
        missing = report.get("missing") or {}
        if missing:
            if self.require_isolation:
                raise confine.IsolationRequired(missing)
            _warn_once(missing)
        return None

    def _reply(self, starting: bool = False) -> dict:
        timeout = max(0.0, min(self.call_timeout, self.deadline - time.monotonic()))
        try:
            if not confine.wait_readable(self.conn.fileno(), self.refusals, timeout, time.monotonic):
                self._kill()
                self.timeouts += 1
                if timeout < self.call_timeout:
                    return engine._error("timeout", f"the exercise's time budget ({self.budget:g} s) ran out "
                                                    "during this check (an infinite loop, or far too slow)")
                what = "importing your module" if starting else "this check"
                return engine._error("timeout", f"{what} took longer than {timeout:g} s "
                                                f"(an infinite loop, or far too slow)")
            data = self.conn.recv_bytes(wire.MAX_BYTES)
        except OSError as e:
            if "bad message length" not in str(e):
                return self._died("while importing your module" if starting else "during this check")
            self._kill()      # the rest of that message is still in the pipe: this child is done
            return engine._error("unreadable", f"the reply is larger than {wire.MAX_BYTES // 2**20} MiB")
        except EOFError:
            return self._died("while importing your module" if starting else "during this check")
        try:
            record = wire.decode(data)
        except Exception as e:  # noqa: BLE001 - whatever the child sent, it is not a valid reply
            self._kill()
            detail = f": {e}" if isinstance(e, ValueError) else ""
            return engine._error("unreadable", f"the reply could not be read ({type(e).__name__}{detail})")
        if not isinstance(record, dict) or not ("value" in record or "__error__" in record
                                                or "ready" in record or "confined" in record):
            return engine._error("unreadable", "the reply was not a result record")
        for key, into in (("sandbox", self.sandbox_log), ("attempts", self.attempts)):
            found = record.get(key, [])
            into.extend(v for v in (found if isinstance(found, list) else []) if isinstance(v, str) and v not in into)
        return record

    def _died(self, when: str) -> dict:
        self.proc.join(timeout=5)
        code = self.proc.exitcode
        self._kill()
        if code is not None and code < 0:
            name = signal.Signals(-code).name if -code in signal.Signals._value2member_map_ else str(-code)
            kind, msg = ("memory", f"the process was killed by {name} (out of memory?)") if -code == 9 \
                else ("crashed", f"the process died from signal {name}")
        else:
            kind, msg = "exited", f"the process exited with code {code}"
        last = self._last_output_line()
        return engine._error(kind, f"{msg} {when}" + (f"; its last output: {last}" if last else ""))

    def _last_output_line(self) -> str:
        """The child's last line of stdout/stderr: usually the exception that ended it."""
        try:
            with open(os.path.join(self.workdir, ".output.log"), "rb") as f:
                f.seek(0, os.SEEK_END)
                f.seek(max(0, f.tell() - 4096))
                lines = f.read().decode(errors="replace").strip().splitlines()
        except OSError:
            return ""
        return lines[-1][:300] if lines else ""

    def _kill(self):
        if self.proc is not None:
            if self.proc.is_alive():
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    self.proc.kill()
            self.proc.join(timeout=5)
        if self.conn is not None:
            self.conn.close()
        if self.refusals is not None:
            self.refused.extend(self.refusals.seen)
            self.refusals.close()
        self.proc = self.conn = self.refusals = None

    def close(self):
        if self.proc is not None and self.proc.is_alive():
            try:
                self.conn.send_bytes(pickle.dumps(None))
                self.proc.join(timeout=2)
            except (BrokenPipeError, OSError):
                pass
        self._kill()
        shutil.rmtree(self.workdir, ignore_errors=True)


_WARNED: set[str] = set()


def _warn_once(missing: dict) -> None:
    """Say once per process, on stderr, which kernel protections this machine could not apply."""
    new = {k: v for k, v in missing.items() if k not in _WARNED}
    if new:
        _WARNED.update(new)
        lines = "".join(f"\n  - {layer}: {why}" for layer, why in new.items())
        print(f"mlkata: grading without some kernel protections (see `mlkata doctor`):{lines}",
              file=sys.stderr, flush=True)


_MAIN_LOCK = threading.Lock()


@contextmanager
def _main_hidden():
    """Start a child without multiprocessing re-running the parent's ``__main__`` script in it
    (and, in a daemonic worker, without its refusal to start children).

    multiprocessing re-imports the main script by path in every child (so that pickled
    functions defined there resolve).  Our children need nothing from it, and re-running a
    user's script -- or pytest's -- would cost time and could have side effects.
    """
    main = sys.modules["__main__"]
    config = mp.current_process()._config
    with _MAIN_LOCK:
        saved = {k: main.__dict__.pop(k) for k in ("__file__", "__spec__") if k in main.__dict__}
        main.__spec__ = None
        # Inside a daemonic worker (a Dask worker, say) multiprocessing refuses to start
        # children, because a daemon may be killed without cleaning them up.  Ours need no
        # cleanup: each one exits when its pipe closes, and its process group is killed on timeout.
        daemon = config.pop("daemon", None)
        try:
            yield
        finally:
            main.__dict__.pop("__spec__", None)
            main.__dict__.update(saved)
            if daemon is not None:
                config["daemon"] = daemon


# --------------------------------------------------------------------------------------------
# Child side
# --------------------------------------------------------------------------------------------

def child_main(conn, job: Job, workdir: str, local_copy: str) -> None:
    """Entry point of the sandboxed child: load, confine, import, then answer calls until told to stop."""
    os.setsid()
    server.release_alive_pipe()
    server_pid = os.getppid()
    _die_with(server_pid)
    _redirect_output(workdir)
    import torch
    torch.set_num_threads(1)     # checks are small: one thread is faster, and children run side by side
    _apply_limits(job.memory_bytes, job.cpu_seconds)
    # both kinds usually preloaded by the fork server
    probes = {name: engine.loaded_module(name, path) or engine.load_module(path, name)
              for name, path in job.probe_modules.items()}
    probes.update({name: engine.loaded_module(name, path, probes_only=True) or probe_source.load(path, name)
                   for name, path in job.hidden_probe_modules.items()})
    os.chdir(workdir)
    # the child's own folder is its home and temp dir (libraries' caches land there, not in the
    # grader's home), and it knows its user without a lookup
    os.environ.update(TMPDIR=workdir, HOME=workdir)
    if os.geteuid() == 0 and job.confine:
        os.environ.update(USER="nobody", LOGNAME="nobody")
    tempfile.tempdir = workdir
    sys.dont_write_bytecode = True
    _confine(conn, job, workdir)
    log: list[str] = []
    attempts: list[str] = []
    if job.audit_hook:
        _install_guard(workdir, job.protected, log, attempts)

    # held open for the child's life: what the learner's import captures is already watched
    watch = engine.Watch(job.forbidden).__enter__()
    sub, err = engine.import_submission(local_copy, job.module_name)
    conn.send_bytes(wire.encode(err or {"ready": True, "sandbox": log[:], "attempts": attempts[:]}))
    if err:
        os._exit(0)
    while True:
        try:
            request = pickle.loads(conn.recv_bytes())   # from the trusted parent
        except (EOFError, OSError):
            break
        if request is None:
            break
        target, args, kwargs = request
        record = engine.invoke(sub, probes, target, args, kwargs, job.forbidden, local_copy, watch)
        if log:
            record["sandbox"], record["attempts"] = log[:], attempts[:]
        try:
            conn.send_bytes(wire.encode(record))
        except Exception as e:  # noqa: BLE001 - e.g. a reply too large
            conn.send_bytes(wire.encode(engine._error("unreadable", f"{type(e).__name__}: {e}")))
    os._exit(0)


def _confine(conn, job: Job, workdir: str) -> None:
    """Apply the kernel's layers (:mod:`mlkata.confine`), then report them -- and hand over the
    seccomp listener -- before any of the learner's code runs."""
    started = time.perf_counter()
    if not job.confine:
        report = {"layers": [], "missing": {"all": "confinement switched off"}, "notes": []}
    else:
        try:
            applied = confine.confine(workdir, job.protected)
            report = {"layers": applied.layers, "missing": applied.missing, "notes": applied.notes}
        except Exception as e:  # noqa: BLE001 - say exactly what could not be applied
            applied = None
            report = {"layers": [], "missing": {"confinement": f"{type(e).__name__}: {e}"}, "notes": []}
    listener = applied.listener if job.confine and applied is not None else None
    report["listener"] = listener is not None
    report["seconds"] = time.perf_counter() - started
    conn.send_bytes(wire.encode({"confined": report}))
    if listener is not None:
        reduction.send_handle(conn, listener, os.getppid())
        os.close(listener)      # the child must never answer its own refused calls


def _redirect_output(workdir: str) -> None:
    fd = os.open(os.path.join(workdir, ".output.log"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)


def _die_with(server_pid: int) -> None:
    """A child whose grader is killed (Ctrl-C, SIGKILL) must not run on: when the fork server
    exits -- which it does once no client holds its "alive" pipe -- the kernel kills us."""
    try:
        confine.die_with_parent(server_pid)
    except (OSError, AttributeError, confine.ConfinementError):   # not Linux: the CPU limit still bounds us
        pass


def _apply_limits(memory_bytes: int, cpu_seconds: int) -> None:
    import resource
    # CPU seconds, not wall time: a backstop that ends even an orphaned endless loop
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 5))
    with open("/proc/self/status") as f:
        vm = next((int(line.split()[1]) * 1024 for line in f if line.startswith("VmSize")), 0)
    cap = vm + memory_bytes
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 2**20, 64 * 2**20))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


_DENIED_EVENTS = ("subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork",
                  "os.forkpty", "pty.spawn", "socket.connect", "socket.bind", "socket.sendto",
                  "socket.getaddrinfo", "urllib.Request", "os.killpg", "webbrowser.open")
_PATH_WRITE_EVENTS = ("os.remove", "os.rename", "os.rmdir", "os.mkdir", "os.chmod", "os.chown",
                      "os.truncate", "os.symlink", "os.link", "os.utime", "shutil.rmtree", "shutil.move")
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


def _install_guard(workdir: str, protected: list[str], log: list[str], attempts: list[str]) -> None:
    """An audit hook fencing the learner's code in (see the module docstring)."""
    realpath = os.path.realpath
    workdir = realpath(workdir)
    fences = [realpath(p) for p in protected]
    me = os.getpid()
    busy = [False]

    def inside(path: str, root: str) -> bool:
        return path == root or path.startswith(root.rstrip("/") + "/")

    def deny(what: str, attempt: bool = False):
        # a refused file access can be incidental (linecache behind a warning, a library's cache
        # folder); starting processes, signals, sockets and native code never are: those zero
        # the exercise, like the kernel's refusals
        message = f"{engine.SANDBOX_TAG}{what} is not allowed while grading"
        log.append(message)
        if attempt:
            attempts.append(what)
        raise PermissionError(message)

    def fenced(path) -> str | None:
        if isinstance(path, int) or path is None:
            return None
        p = realpath(os.fsdecode(path))
        if any(inside(p, f) for f in fences):
            return p
        parts = p.split("/")
        if len(parts) > 2 and parts[1] == "proc" and parts[2].isdigit():
            # other processes entirely; our own raw memory (remnants of whatever ran before us)
            if parts[2] != str(me) or (len(parts) > 3 and parts[3] in ("mem", "map_files", "pagemap")):
                return p
        return None

    def writable(path) -> bool:
        if isinstance(path, int) or path is None:
            return True
        p = realpath(os.fsdecode(path))
        return inside(p, workdir) or p == "/dev/null"

    def hook(event: str, args: tuple) -> None:
        if busy[0]:
            return
        busy[0] = True
        try:
            if event == "open":
                path, mode, flags = (tuple(args) + (None, None))[:3]
                if fenced(path):
                    deny(f"opening {os.fsdecode(path)}")
                wants_write = (isinstance(mode, str) and any(c in mode for c in "wax+")) or \
                    (isinstance(flags, int) and flags & _WRITE_FLAGS)
                if wants_write and not writable(path):
                    deny(f"writing {os.fsdecode(path)}")
            elif event in ("os.listdir", "os.scandir", "glob.glob", "os.chdir"):
                if args and fenced(args[0]):
                    deny(f"{event} on {os.fsdecode(args[0])}")
            elif event == "os.kill":
                if args and args[0] not in (me,):
                    deny(f"sending a signal to process {args[0]}", attempt=True)
            elif event.startswith("ctypes.") and event not in ("ctypes.get_errno", "ctypes.set_errno"):
                deny("ctypes", attempt=True)
            elif event.startswith(_DENIED_EVENTS):
                deny(event, attempt=True)
            elif event in _PATH_WRITE_EVENTS:
                for p in args:
                    if isinstance(p, (str, bytes, os.PathLike)) and not writable(p):
                        deny(f"{event} on {os.fsdecode(p)}")
        finally:
            busy[0] = False

    sys.addaudithook(hook)


def probe_module_name(kind: str, exercise_id: str) -> str:
    """A stable, importable-looking module name for a check module, the same in both processes."""
    return f"mlkata_{kind}__" + exercise_id.replace("/", "__")
