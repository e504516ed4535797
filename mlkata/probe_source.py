"""The part of a hidden grader that may live in the learner's process: its probes.

A probe runs beside the learner's code, so the module that defines it is loaded in the sandboxed
child.  A hidden grader's checks -- its inputs, expectations and oracles -- must not be: whatever
is in the child's memory the learner's code can find (``gc.get_objects()``, ``sys.modules``) and
call.  So the child never runs a hidden grader's source as written.  :func:`load` runs a pruned copy
of it: the imports, the ``@probe`` functions, the classes (a check may hand the learner's code an
instance, e.g. a toy language model, which the child must be able to rebuild), and the top-level
statements that define a name those use (transitively).  The checks and module-level helpers
nothing of that uses are never executed there, so they never exist in that process.

Visible check modules are loaded whole: learners see them as ``exercises/<area>/test_<name>.py``.
"""
from __future__ import annotations

import ast
import symtable
import sys
import types
from pathlib import Path

PROBES_ONLY = "__mlkata_probes_only__"     # marks a pruned module, which must never judge


def load(path: str, name: str) -> types.ModuleType:
    """Run the probe part of the grader at ``path`` as a fresh module ``name``."""
    tree = prune(ast.parse(Path(path).read_text(), filename=path))
    module = types.ModuleType(name)
    module.__file__ = path
    setattr(module, PROBES_ONLY, True)
    sys.modules[name] = module          # dataclasses and pickling look a module up by name
    try:
        exec(compile(tree, path, "exec"), module.__dict__)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def prune(tree: ast.Module) -> ast.Module:
    """Keep imports, probes, classes, and the statements defining names they reach; drop the rest."""
    body = tree.body
    definers: dict[str, list[int]] = {}
    for i, stmt in enumerate(body):
        for name in _defines(stmt):
            definers.setdefault(name, []).append(i)
    keep = {i for i, stmt in enumerate(body) if isinstance(stmt, (ast.Import, ast.ImportFrom, ast.ClassDef))
            or _is_probe(stmt)}
    todo = list(keep)
    while todo:
        for name in _uses(body[todo.pop()]):
            for i in definers.get(name, ()):
                if i not in keep:
                    keep.add(i)
                    todo.append(i)
    tree.body = [stmt for i, stmt in enumerate(body) if i in keep]
    return tree


def _is_probe(stmt: ast.stmt) -> bool:
    if not isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return False
    for deco in stmt.decorator_list:
        target = deco.func if isinstance(deco, ast.Call) else deco
        if (isinstance(target, ast.Name) and target.id == "probe") or \
                (isinstance(target, ast.Attribute) and target.attr == "probe"):
            return True
    return False


def _defines(stmt: ast.stmt) -> set[str]:
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {stmt.name}
    names = set()
    for node in ast.walk(stmt):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.alias):
            names.add((node.asname or node.name).split(".")[0])
    return names


def _uses(stmt: ast.stmt) -> set[str]:
    """Module-level names ``stmt`` reads.  Scope-aware (``symtable``): a function's local or
    parameter that happens to share a check's name (``amsgrad``, say) does not pull the check in."""
    return _globals_read(symtable.symtable(ast.unparse(stmt), "<grader>", "exec"))


def _globals_read(table: symtable.SymbolTable) -> set[str]:
    at_module = table.get_type() == "module"
    names = {sym.get_name() for sym in table.get_symbols()
             if sym.is_referenced() and (at_module or sym.is_global())}
    for child in table.get_children():
        names |= _globals_read(child)
    return names
