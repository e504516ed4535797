"""The source policy: constructs an honest solution never needs, refused before grading.

Defence in depth beside the kernel (:mod:`mlkata.confine`): what runs inside the learner's
process can undo whatever else runs there (an audit hook, a tripwire, a torch function mode), so
the judge also reads the submission's *source* -- in its own process, where the submission
cannot reach -- and refuses the tools those undoings need: reaching the interpreter's objects
(``gc``, ``sys.modules``, frames, ``__globals__``), native code (``ctypes``), torch's internals
(``torch._C``, ``torch.ops``), processes, signals, limits, dynamic code and imports, and the
toolkit itself.  Each rule has its own message, so a learner who trips one by accident learns
which line and why.  ``tests/test_policy.py`` proves that every reference and every honest
variant in ``tests/variants`` passes.

Like any static check it can be evaded by code built at run time -- which is why ``eval``,
``exec``, ``compile``, ``__import__`` and ``importlib`` are refused too, and why the kernel's
layers, not this, are what keep answers and the grader out of reach.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass

# module (or dotted prefix) -> why an honest solution never imports it
MODULES = {
    "gc": "walking the interpreter's objects",
    "ctypes": "native code", "_ctypes": "native code", "cffi": "native code",
    "_posixsubprocess": "starting processes", "subprocess": "starting processes", "pty": "starting processes",
    "multiprocessing": "starting processes", "concurrent": "running code outside the graded call",
    "threading": "running code outside the graded call", "_thread": "running code outside the graded call",
    "signal": "sending or handling signals", "_signal": "sending or handling signals",
    "resource": "changing resource limits",
    "importlib": "importing modules by computed names", "imp": "importing modules by computed names",
    "marshal": "building code objects", "types": "building code objects",
    "inspect": "inspecting frames and other functions' internals",
    "traceback": "inspecting frames", "faulthandler": "inspecting frames",
    "socket": "network access", "_socket": "network access", "urllib": "network access",
    "http": "network access", "requests": "network access",
    "builtins": "replacing built-in functions", "code": "running code from strings", "codeop": "running code from strings",
    "mlkata": "reaching into the grading toolkit",
    "torch._C": "torch's internals (they bypass the checks on library calls)",
    "torch.ops": "calling torch's operators by their internal names",
    "torch.overrides": "switching off torch's function hooks",
    "torch.utils._python_dispatch": "switching off torch's dispatch hooks",
    "torch._dynamo": "torch's internals",
}

# dotted names reached through an import (``import os; os.fork``), beside the modules above
NAMES = {
    "sys.modules": "reaching other modules' internals", "sys._getframe": "inspecting frames",
    "sys._current_frames": "inspecting frames", "sys.settrace": "tracing the interpreter",
    "sys.setprofile": "tracing the interpreter", "sys.addaudithook": "hooking the interpreter",
    "sys.meta_path": "changing how modules are imported", "sys.path_hooks": "changing how modules are imported",
    "os.fork": "starting processes", "os.forkpty": "starting processes", "os.system": "running programs",
    "os.popen": "running programs", "os.kill": "sending signals", "os.killpg": "sending signals",
    "os.pidfd_open": "taking a handle on another process", "os.open": "low-level file access",
    "os.link": "linking files", "os.symlink": "linking files", "os.chmod": "changing permissions",
    "os.chown": "changing owners", "os.setuid": "changing user", "os.setgid": "changing group",
    "os.setsid": "leaving the session", "os.setpgid": "changing process group",
    "os.register_at_fork": "hooking process creation", "os.environ": "reading the grader's environment",
    "operator.attrgetter": "reaching attributes by computed names",
    "operator.methodcaller": "reaching attributes by computed names",
}
NAME_PREFIXES = {"os.exec": "running programs", "os.spawn": "running programs",
                 "os.posix_spawn": "running programs", "os.wait": "waiting for processes"}

ATTRIBUTES = {
    "__globals__": "reading another function's globals", "__closure__": "reading another function's closure",
    "__code__": "replacing a function's code", "__kwdefaults__": "reading another function's defaults",
    "__defaults__": "reading another function's defaults", "__subclasses__": "walking the class hierarchy",
    "__builtins__": "reaching the built-in namespace", "__loader__": "reaching the import system",
    "__spec__": "reaching the import system", "__dict__": "reaching attributes by computed names",
    "__getattribute__": "reaching attributes by computed names", "__mro__": "walking the class hierarchy",
    "__bases__": "walking the class hierarchy", "__base__": "walking the class hierarchy",
    "f_back": "inspecting frames", "f_globals": "inspecting frames", "f_locals": "inspecting frames",
    "f_builtins": "inspecting frames", "f_code": "inspecting frames", "tb_frame": "inspecting frames",
    "tb_next": "inspecting frames", "gi_frame": "inspecting frames", "cr_frame": "inspecting frames",
    "ag_frame": "inspecting frames", "gi_code": "inspecting frames",
}

CALLS = {"eval": "running code from strings", "exec": "running code from strings",
         "compile": "building code objects", "__import__": "importing modules by computed names",
         "breakpoint": "starting a debugger", "vars": "reaching attributes by computed names",
         "globals": "reaching the module's namespace by computed names"}
# getattr & co. are fine with a name written out (``getattr(self, "cache", None)``); a computed
# name is how a static reading is dodged (``getattr(torch, "_" + "C")``), and so is passing them on
ATTRIBUTE_FUNCTIONS = ("getattr", "setattr", "delattr", "hasattr")

KEYWORDS = {"dir_fd": "opening files through directory descriptors",
            "src_dir_fd": "opening files through directory descriptors",
            "dst_dir_fd": "opening files through directory descriptors"}


@dataclass(frozen=True)
class Violation:
    what: str          # the construct, as written
    why: str           # what it is for, in the learner's words
    line: int

    def describe(self) -> str:
        return f"`{self.what}` (line {self.line}): {self.why}"


def violations(source: str) -> list[Violation]:
    """Every construct of ``source`` the policy refuses, in line order (none if it does not parse:
    the import reports the syntax error)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    aliases = import_aliases(tree)
    called = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    found: dict[tuple[str, int], Violation] = {}

    def add(what: str, why: str | None, node: ast.AST) -> None:
        if why:
            found.setdefault((what, node.lineno), Violation(what, why, node.lineno))

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                add(f"import {a.name}", _module_reason(a.name), node)
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0 and node.module:
                add(f"from {node.module} import ...", _module_reason(node.module), node)
                for a in node.names:
                    dotted = f"{node.module}.{a.name}"
                    add(dotted, _module_reason(dotted) or _name_reason(dotted), node)
        elif isinstance(node, ast.Attribute):
            add(f".{node.attr}", ATTRIBUTES.get(node.attr), node)
            dotted = dotted_name(node, aliases)
            if dotted:
                add(dotted, _module_reason(dotted) or _name_reason(dotted), node)
        elif isinstance(node, ast.Call):
            _check_call(node, aliases, add)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith("/proc"):
            add(repr(node.value[:40]), "reading other processes through /proc", node)
        elif isinstance(node, ast.Name) and node.id in ATTRIBUTE_FUNCTIONS and node.id not in aliases \
                and id(node) not in called:
            add(node.id, "handing on an attribute function (computed attribute access)", node)
    return sorted(found.values(), key=lambda v: (v.line, v.what))


def _check_call(node: ast.Call, aliases: dict[str, str], add) -> None:
    if isinstance(node.func, ast.Name) and node.func.id not in aliases:
        add(f"{node.func.id}()", CALLS.get(node.func.id), node)
        if node.func.id in ATTRIBUTE_FUNCTIONS:
            _check_attribute_function(node, aliases, add)
    for kw in node.keywords:
        if kw.arg in KEYWORDS:
            add(f"{kw.arg}=", KEYWORDS[kw.arg], node)


def _check_attribute_function(node: ast.Call, aliases: dict[str, str], add) -> None:
    name_arg = node.args[1] if len(node.args) >= 2 else None
    if not (isinstance(name_arg, ast.Constant) and isinstance(name_arg.value, str)):
        own = node.args and isinstance(node.args[0], ast.Name) and node.args[0].id in ("self", "cls")
        if not own:      # the learner's own object may be filled by computed names (a loop of setattr)
            add(f"{node.func.id}(..., <computed name>)", "reaching attributes by computed names", node)
        return
    name = name_arg.value
    add(f"{node.func.id}(..., {name!r})", ATTRIBUTES.get(name), node)
    base = dotted_name(node.args[0], aliases)
    if base:
        add(f"{base}.{name}", _module_reason(f"{base}.{name}") or _name_reason(f"{base}.{name}"), node)


def _module_reason(dotted: str) -> str | None:
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        why = MODULES.get(".".join(parts[:i]))
        if why:
            return why
    return None


def _name_reason(dotted: str) -> str | None:
    if dotted in NAMES:
        return NAMES[dotted]
    for prefix, why in NAME_PREFIXES.items():
        if dotted.startswith(prefix):
            return why
    return None


def import_aliases(tree: ast.AST) -> dict[str, str]:
    """Local name -> the dotted module or object it was imported as."""
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                aliases[a.asname or a.name.split(".")[0]] = a.name if a.asname else a.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for a in node.names:
                aliases[a.asname or a.name] = f"{node.module}.{a.name}"
    return aliases


def dotted_name(node: ast.AST, aliases: dict[str, str]) -> str | None:
    """``a.b.c`` with its root replaced by what the module imported it as (None if not imported)."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name) or node.id not in aliases:
        return None
    return ".".join([aliases[node.id], *reversed(parts)])


def message(found: list[Violation]) -> str:
    listed = "; ".join(v.describe() for v in found[:6]) + (f"; and {len(found) - 6} more" if len(found) > 6 else "")
    return (f"not allowed in a graded submission: {listed} -- an honest solution never needs "
            f"{'these' if len(found) > 1 else 'this'}, so the exercise scores 0 until "
            f"{'they are' if len(found) > 1 else 'it is'} gone")
