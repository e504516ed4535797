"""Running checks: the learner-side call (shared by both modes) and the judge-side loop.

``invoke`` is what runs beside the learner's module -- in-process for pytest, inside the
sandboxed child for ``mlkata grade``.  ``judge`` is what runs the checks and turns their
outcome into :class:`~mlkata.checks.CheckResult` records; it never touches the learner's
module directly, only a *session* that answers ``call(target, args, kwargs)`` with plain data.
"""
from __future__ import annotations

import ast
import copy
import importlib.util
import os
import sys
import traceback
import types
from pathlib import Path
from contextlib import ExitStack, contextmanager
from typing import Any, Iterable, Protocol

from . import wire
from . import policy
from .policy import dotted_name, import_aliases
from .probe_source import PROBES_ONLY
from .checks import Check, CheckResult, Fail, Probe, StudentError, zero_all


# --------------------------------------------------------------------------------------------
# Loading the learner's module
# --------------------------------------------------------------------------------------------

def load_module(path: str, name: str) -> types.ModuleType:
    """Import the file at ``path`` as module ``name`` (registered in ``sys.modules``)."""
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def loaded_module(name: str, path: str, *, probes_only: bool = False) -> types.ModuleType | None:
    """Module ``name`` if it is already loaded (here, or by the fork server before it forked us)
    from ``path``, and of the wanted kind: whole, or a grader's probes only (:mod:`mlkata.probe_source`)."""
    module = sys.modules.get(name)
    file = getattr(module, "__file__", None)
    if file is None or os.path.realpath(file) != os.path.realpath(path):
        return None
    return module if getattr(module, PROBES_ONLY, False) == probes_only else None


def import_submission(path: str, name: str) -> tuple[types.ModuleType | None, dict | None]:
    """Import the learner's file; on failure return an error record instead of raising."""
    if not os.path.exists(path):
        return None, _error("missing", f"no file at {path}")
    try:
        return load_module(path, name), None
    except SyntaxError as e:
        return None, _error("syntax", f"SyntaxError: {e.msg}", f"{os.path.basename(path)}, line {e.lineno}")
    except SystemExit as e:
        return None, _error("exited", f"your module called sys.exit({e.code!r}) while being imported")
    except BaseException as e:  # noqa: BLE001 - any failure of the learner's import is reported
        if SANDBOX_TAG in str(e) or isinstance(e, PermissionError):
            return None, _error("sandbox", _sandbox_detail(e), _where(e, path))
        return None, _error("import", f"importing your module raised {type(e).__name__}: {e}",
                            _where(e, path))


SANDBOX_TAG = "mlkata sandbox: "


def _sandbox_detail(e: BaseException) -> str:
    """What the sandbox refused: the audit hook's own words, or the kernel's (a PermissionError:
    Landlock, seccomp or the unprivileged user) with what the grading child may do instead."""
    if SANDBOX_TAG in str(e):
        return str(e).split(SANDBOX_TAG, 1)[1]
    return (f"{type(e).__name__}: {e} -- while graded, code may read only the Python installation "
            "and its own file, write only its working folder, and start no process")


def _error(kind: str, message: str, where: str = "") -> dict:
    return {"__error__": {"kind": kind, "message": message[:2000], "where": where}}


def _where(exc: BaseException, student_path: str | None) -> str:
    """The innermost frame of the learner's file, else the innermost frame at all."""
    # lookup_lines=False: reading source lines would open the check modules' files, which the
    # sandbox forbids once the learner's code runs (and the lines are not needed here).
    frames = traceback.StackSummary.extract(traceback.walk_tb(exc.__traceback__), lookup_lines=False)
    real = os.path.realpath(student_path) if student_path else None
    mine = [f for f in frames if real and os.path.realpath(f.filename) == real]
    f = (mine or frames or [None])[-1]
    if f is None:
        return ""
    place = "your file" if mine else os.path.basename(f.filename)
    return f"{place}, line {f.lineno}, in {f.name}"


# --------------------------------------------------------------------------------------------
# Forbidden library calls: a static scan of the source and a runtime tripwire
# --------------------------------------------------------------------------------------------

def source_refusal(path: str, forbidden: Iterable[str]) -> str:
    """Why the judge refuses to run this file at all, read in the judge's own process: a forbidden
    library call it names, or a construct of the source policy (:mod:`mlkata.policy`); "" if none."""
    try:
        source = Path(path).read_text(errors="replace")
    except OSError:
        return ""          # a missing file is reported by the import
    found = forbidden_in_source(source, forbidden) if forbidden else []
    if found:
        return forbidden_message(found)
    refused = policy.violations(source)
    return policy.message(refused) if refused else ""


def forbidden_in_source(source: str, forbidden: Iterable[str]) -> list[str]:
    """Forbidden dotted names the source reaches by name: an attribute chain through an imported
    module or alias (``F.scaled_dot_product_attention`` with ``import torch.nn.functional as F``),
    an imported name (``from torch.nn.utils import clip_grad_norm_``), or ``getattr(module, "name")``.
    Chains are resolved through the module's own imports, so the learner's ``self.f`` or an
    unrelated ``F.normalize`` is never a hit; what a scan cannot see (computed names, tensor
    methods, re-exports) is left to the runtime tripwire.
    """
    forbidden = list(forbidden)
    wanted = set(forbidden)
    leaves = {name.rsplit(".", 1)[-1] for name in forbidden}
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    aliases = import_aliases(tree)
    defined = {node.name for node in ast.walk(tree)
               if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    found: list[str] = []

    def hit(name: str | None) -> None:
        if name in wanted and name not in found:
            found.append(name)

    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            for a in node.names:
                hit(f"{node.module}.{a.name}")
        elif isinstance(node, ast.Attribute) and node.attr in leaves:
            hit(dotted_name(node, aliases))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr" \
                and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant) \
                and isinstance(node.args[1].value, str) and node.args[1].value not in defined:
            base = dotted_name(node.args[0], aliases)
            hit(f"{base}.{node.args[1].value}" if base else None)
    return found


def _resolve(dotted: str):
    """The object at a dotted path; submodules are imported by name (``torch.optim.sgd.sgd``:
    torch.optim deletes its submodule attributes, so plain getattr would not find them)."""
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for p in parts[i:]:
            obj = getattr(obj, p)
        return obj
    raise ImportError(dotted)


class _Homes:
    """Where the objects of one package can be reached: ``id(object) -> [(module, attribute)]``
    over every loaded module of the package (callables only: what a tripwire patches).

    Built in one walk (~0.1 s for torch) and extended when ``sys.modules`` grows, so finding a
    forbidden function's aliases is a dict lookup.  The fork server builds it
    (:func:`warm_tripwire`), so a sandboxed child only walks what the learner's import added --
    a walk of every torch module per forbidden name was ~20 ms a name, in every child.
    """

    def __init__(self, root: str):
        self.root = root
        self.by_id: dict[int, list] = {}
        self.seen: dict[str, int] = {}       # module name -> id of the module object walked
        self.modules_seen = -1               # len(sys.modules) at the last walk

    def of(self, obj) -> list:
        if len(sys.modules) != self.modules_seen:
            self._walk_new_modules()
        return self.by_id.get(id(obj), [])

    def _walk_new_modules(self) -> None:
        self.modules_seen = len(sys.modules)
        for name, mod in list(sys.modules.items()):
            if self.seen.get(name) == id(mod):
                continue
            self.seen[name] = id(mod)
            if name == self.root or name.startswith(self.root + "."):
                for attr, value in list(getattr(mod, "__dict__", {}).items()):
                    if callable(value):
                        self.by_id.setdefault(id(value), []).append((mod, attr))


_HOMES: dict[str, _Homes] = {}
_OWNERS: dict[str, Any] = {}      # dotted name -> the module or class it names, once resolved


def _owner(dotted: str):
    """The module or class ``dotted`` names, or None; cached, since resolving a class path costs
    a failed import (~20 us) and the tripwire asks on every call it guards."""
    if dotted not in _OWNERS:
        try:
            _OWNERS[dotted] = _resolve(dotted)
        except (ImportError, AttributeError):
            return None           # not importable yet: ask again next time
    return _OWNERS[dotted]


def _aliases(dotted: str, original) -> list:
    """The (module or class, attribute) pairs that hold ``original`` now."""
    root = dotted.split(".")[0]
    homes = _HOMES.setdefault(root, _Homes(root))
    owner_name, _, attr_name = dotted.rpartition(".")
    owner = _owner(owner_name)
    # a method such as torch.Tensor.softmax lives on its class, not in a module's namespace
    found = ([(owner, attr_name)] if isinstance(owner, type) else []) + homes.of(original)
    return [(m, a) for m, a in found if getattr(m, a, None) is original]


def warm_tripwire(forbidden: Iterable[str]) -> None:
    """Index now where the forbidden functions live (for the fork server; see :class:`_Homes`)."""
    with op_record(forbidden), tripwire(forbidden):
        pass


# --------------------------------------------------------------------------------------------
# The dispatcher's view: every torch function the learner's code calls, however it reached it
# --------------------------------------------------------------------------------------------

def op_key(fn) -> Any:
    """One identity for a torch callable however it is reached: ``"aten::<op>"`` for a native
    operator -- ``torch.ops.aten.X`` (packet or overload), its C binding in ``torch``,
    ``torch._C._nn``, ``torch._C._VariableFunctions``, or a Tensor method -- else the function
    object itself (a Python function such as ``F.max_pool2d``: the original, wherever it was kept)."""
    schema = getattr(fn, "_schema", None)                  # an OpOverload
    if schema is not None and isinstance(getattr(schema, "name", None), str):
        return schema.name
    qualified = getattr(fn, "_qualified_op_name", None)    # an OpOverloadPacket
    if isinstance(qualified, str):
        return qualified
    if isinstance(fn, (types.BuiltinFunctionType, types.MethodDescriptorType)):
        module = getattr(fn, "__module__", None) or getattr(getattr(fn, "__objclass__", None), "__module__", "")
        if (module or "").split(".")[0] == "torch":
            return "aten::" + fn.__name__
    return fn


_WANTED: dict[tuple[str, ...], dict[Any, str]] = {}


def _forbidden_ops(forbidden: Iterable[str]) -> dict[Any, str]:
    """op key -> the forbidden dotted name it stands for (functions only: a class is caught
    through the functions its methods call)."""
    names = tuple(n for n in forbidden if n.split(".")[0] in sys.modules)
    if names not in _WANTED:
        wanted: dict[Any, str] = {}
        for dotted in names:
            try:
                obj = _resolve(dotted)
            except (ImportError, AttributeError):
                continue
            if callable(obj) and not isinstance(obj, type):
                try:
                    wanted.setdefault(op_key(obj), dotted)
                except TypeError:      # unhashable: never a torch function anyway
                    pass
        _WANTED[names] = wanted
    return _WANTED[names]


@contextmanager
def op_record(forbidden: Iterable[str]):
    """While active, every torch function called from Python (not from inside another torch
    function) is matched against the forbidden ones by :func:`op_key`: so ``torch.ops.aten.*``,
    ``torch._C._nn.*``, a captured original or a re-export is seen as the op it is.  Yields the
    list of forbidden names seen.  (A torch function mode: ~1 us a call.)"""
    hits: list[str] = []
    wanted = _forbidden_ops(forbidden)
    if not wanted or "torch" not in sys.modules:
        yield hits
        return
    from torch.overrides import TorchFunctionMode

    class _Record(TorchFunctionMode):
        def __torch_function__(self, func, types_, args=(), kwargs=None):
            try:
                name = wanted.get(op_key(func))
            except TypeError:
                name = None
            if name is not None and name not in hits:
                hits.append(name)
            return func(*args, **(kwargs or {}))

    with _Record():
        yield hits


@contextmanager
def tripwire(forbidden: Iterable[str]):
    """While active, calls of the forbidden functions (under any module alias) are recorded."""
    calls: list[str] = []
    patched = []
    for dotted in forbidden:
        if dotted.split(".")[0] not in sys.modules:
            continue    # never imported, so never called so far; the source scan covers later imports
        try:
            original = _resolve(dotted)
        except (ImportError, AttributeError):
            continue

        wrapper = _recording(original, dotted, calls)
        for mod, attr in _aliases(dotted, original):
            patched.append((mod, attr, original, attr in vars(mod)))
            setattr(mod, attr, wrapper)
    try:
        yield calls
    finally:
        for mod, attr, original, own in reversed(patched):
            if own:
                setattr(mod, attr, original)
            else:       # an inherited method: remove the shadow, do not copy the method down
                delattr(mod, attr)


def _recording(original, dotted: str, calls: list[str]):
    """A stand-in for ``original`` that records each call.  The original sits in the closure,
    not in a default argument, where ``__kwdefaults__`` would hand it out."""
    def wrapper(*a, **k):
        calls.append(dotted)
        return original(*a, **k)
    return wrapper


class Watch:
    """The tripwire and the op record held open for a whole sandboxed child's life -- from before
    the learner's module is imported, so that what it captures at import time are the recording
    stand-ins, and replacing ``tripwire`` afterwards changes nothing.  :meth:`take` returns the
    forbidden names seen since the last take."""

    def __init__(self, forbidden: Iterable[str]):
        self.forbidden = list(forbidden)
        self._stack = ExitStack()

    def __enter__(self) -> "Watch":
        self._ops = self._stack.enter_context(op_record(self.forbidden))
        self._calls = self._stack.enter_context(tripwire(self.forbidden))
        return self

    def __exit__(self, *exc) -> None:
        self._stack.close()

    def take(self) -> list[str]:
        seen = sorted(set(self._calls) | set(self._ops))
        self._calls.clear()
        self._ops.clear()
        return seen


# --------------------------------------------------------------------------------------------
# The learner-side call, shared by both modes
# --------------------------------------------------------------------------------------------

def invoke(sub: types.ModuleType, probes: dict[str, types.ModuleType], target: tuple[str, str],
           args: tuple, kwargs: dict, forbidden: Iterable[str], student_path: str,
           watch: Watch | None = None) -> dict:
    """Run one probe or function beside the learner's module; return a plain-data record.

    ``target`` is ``("probe", "<module>:<name>")`` or ``("call", "<function name>")``.
    The record is ``{"value": ..., "forbidden": [...]}`` or ``{"__error__": {...}}``.
    ``watch``: a :class:`Watch` already open (the sandbox's); without one, a watch is opened
    for this call alone (pytest mode).
    """
    if watch is None:
        with Watch(forbidden) as watch:
            return invoke(sub, probes, target, args, kwargs, forbidden, student_path, watch)
    kind, name = target
    if kind == "call":
        fn = getattr(sub, name, None)
        if fn is None:
            return _error("missing", f"your module defines no `{name}`")
        call = lambda: fn(*args, **kwargs)  # noqa: E731
    else:
        module_name, probe_name = name.split(":")
        probe_obj = getattr(probes[module_name], probe_name)
        call = lambda: probe_obj.fn(sub, *args, **kwargs)  # noqa: E731
    record = _run(call, sub, student_path)
    seen = watch.take()
    if seen:
        record["forbidden"] = seen      # error records too: the judge zeroes the exercise either way
    return record


def _run(call, sub: types.ModuleType, student_path: str) -> dict:
    """``call()`` as a plain-data record: its value, or what went wrong, in the learner's words."""
    try:
        value = call()
    except NotImplementedError as e:
        return _error("not_implemented", str(e) or "raises NotImplementedError", _where(e, student_path))
    except AttributeError as e:
        missing = getattr(e, "obj", None) is sub
        return _error("missing" if missing else "raised",
                      f"your module defines no `{e.name}`" if missing else f"AttributeError: {e}",
                      _where(e, student_path))
    except RecursionError as e:
        return _error("raised", f"RecursionError: {e}", _where(e, student_path))
    except MemoryError as e:
        return _error("memory", f"ran out of memory (MemoryError{': ' + str(e) if str(e) else ''})",
                      _where(e, student_path))
    except Exception as e:  # noqa: BLE001 - reported to the learner
        if SANDBOX_TAG in str(e) or isinstance(e, PermissionError):
            return _error("sandbox", _sandbox_detail(e), _where(e, student_path))
        message = f"{type(e).__name__}: {e}"
        kind = "memory" if "can't allocate memory" in str(e) or "not enough memory" in str(e) else "raised"
        return _error(kind, message, _where(e, student_path))
    try:
        return {"value": wire.plain(value)}
    except Exception as e:  # noqa: BLE001 - e.g. a hostile object that breaks on inspection
        return _error("unreadable", f"returned a value that cannot be read back: {type(e).__name__}: {e}")


def target_of(what: Probe | str) -> tuple[str, str]:
    if isinstance(what, Probe):
        return ("probe", f"{what.fn.__module__}:{what.name}")
    if isinstance(what, str):
        return ("call", what)
    raise TypeError(f"run() takes a probe or a function name, not {type(what).__name__}")


# --------------------------------------------------------------------------------------------
# Sessions: how a judge reaches the learner's code
# --------------------------------------------------------------------------------------------

class Session(Protocol):
    def call(self, target: tuple[str, str], args: tuple, kwargs: dict) -> dict: ...
    def close(self) -> None: ...


class LocalSession:
    """Pytest mode: the learner's module is imported in this process."""

    def __init__(self, student_path: str, module_name: str, probe_modules: Iterable[types.ModuleType],
                 forbidden: Iterable[str] = ()):
        self.student_path = student_path
        self.forbidden = list(forbidden)
        self.probes = {m.__name__: m for m in probe_modules}
        self.sub, self.import_error = import_submission(student_path, module_name)

    def call(self, target, args, kwargs):
        if self.import_error:
            return self.import_error
        # Deep copies stand in for the process boundary: the learner's code may mutate its
        # arguments without touching the judge's copies, exactly as in isolated mode.
        record = invoke(self.sub, self.probes, target, copy.deepcopy(args), copy.deepcopy(kwargs),
                        self.forbidden, self.student_path)
        return wire.roundtrip(record)

    def close(self):
        pass


# --------------------------------------------------------------------------------------------
# The judge
# --------------------------------------------------------------------------------------------

def make_runner(session: Session, forbidden_seen: list[str]):
    """The ``run(probe_or_name, *args, **kwargs)`` handed to check functions."""

    def run(what, *args, **kwargs):
        record = session.call(target_of(what), args, kwargs)
        found = record.get("forbidden", [])
        forbidden_seen.extend(f for f in (found if isinstance(found, list) else [])
                              if isinstance(f, str) and f not in forbidden_seen)
        if "__error__" in record:
            err = record["__error__"]
            raise StudentError(err["kind"], err["message"], err.get("where", ""))
        return record["value"]

    return run


def judge(checks: list[tuple[Check, bool]], session: Session, hint_command: str = "") -> list[CheckResult]:
    """Run each (check, hidden) pair against ``session``; never raises for the learner's faults."""
    results = []
    forbidden_seen: list[str] = []
    run = make_runner(session, forbidden_seen)
    for chk, hidden in checks:
        results.append(_judge_one(chk, hidden, run, hint_command))
    if forbidden_seen:
        zero_all(results, forbidden_message(forbidden_seen))
    return results


def sandbox_message(refusals: list[str]) -> str:
    return (f"blocked by the grading sandbox: {'; '.join(refusals[:5])} -- the exercise scores 0: "
            "a graded submission may only compute")


def forbidden_message(names: list[str]) -> str:
    return (f"forbidden call: your code uses {', '.join(names)}, the library function this exercise "
            f"asks you to write yourself -- the exercise scores 0 until it is gone")


def _judge_one(chk: Check, hidden: bool, run, hint_command: str) -> CheckResult:
    base = dict(name=chk.name, title=chk.title, points=chk.points, hidden=hidden)
    try:
        chk.fn(run)
    except Fail as f:
        hint = f"\n(stuck? {hint_command})" if hint_command else ""
        return CheckResult(**base, score=0.0, status="failed", message=f"rule: {f.rule}\n{f.detail}".rstrip() + hint)
    except StudentError as e:
        status = "todo" if e.kind == "not_implemented" else "failed"
        hint = f"\n(stuck? {hint_command})" if hint_command and e.kind == "raised" else ""
        return CheckResult(**base, score=0.0, status=status, message=student_error_message(e) + hint)
    except Exception:  # noqa: BLE001 - a bug in the check itself must not pass silently
        return CheckResult(**base, score=0.0, status="error",
                           message="the check itself failed (please report this):\n" + traceback.format_exc(limit=4))
    return CheckResult(**base, score=float(chk.points), status="passed")


_KIND_PREFIX = {
    "not_implemented": "not implemented yet",
    "missing": "missing",
    "syntax": "your file does not parse",
    "import": "your module failed to import",
    "exited": "your code exited the process",
    "timeout": "timed out",
    "memory": "memory limit exceeded",
    "crashed": "your code crashed the process",
    "sandbox": "blocked by the grading sandbox",
    "unreadable": "unreadable result",
    "raised": "your code raised an exception",
}


def student_error_message(e: StudentError) -> str:
    head = _KIND_PREFIX.get(e.kind, e.kind)
    where = f" ({e.where})" if e.where else ""
    return f"{head}: {e.message}{where}"
