"""Do-nothing submissions: what an autograder must give exactly zero points.

An instructor who distrusts autograders first hands in nothing: functions that return zeros,
ones, a constant, their first argument or random values of the right shape; modules whose
``forward`` returns its input or zeros; optimizers whose ``step`` does nothing; schedulers that
return the base rate.  This module writes such submissions for any exercise, from its
reference (``catalog/<area>/<name>/exercise.py``): every solution region (what the learner
writes) is replaced by a one-line body that does nothing useful, so signatures, classes, given
code and imports are exactly the stub's.

Two families, and one kind of partial solution:

* ``null_source(ex, strategy, keep_init=True)`` -- every region outside ``__init__`` does
  nothing, while ``__init__`` is the reference's (the module has its parameters, the optimizer
  its state): the strongest null, since only behaviour can earn points.
* ``null_source(ex, strategy, keep_init=False)`` -- ``__init__`` does nothing too (it keeps
  the ``super().__init__()`` a module needs to exist).
* ``partial_source(ex, implemented)`` -- an honest partial solution: the reference's regions of
  the named units (a function, or a class with all its methods), the stub's
  ``raise NotImplementedError`` everywhere else.

"Of the right shape" is measured, not guessed: a shaped null runs the reference on deep copies
of its arguments (and of ``self``) and returns the same structure with every value replaced --
so it has the right shapes, dtypes, lengths and keys, and nothing else right.  It never changes
its arguments or its object.
"""
from __future__ import annotations

import ast
import tempfile
import textwrap
from dataclasses import dataclass
from pathlib import Path

from . import build
from .catalog import Exercise

STRATEGIES: dict[str, str] = {
    "none": "every function returns None and changes nothing (an optimizer that does not step)",
    "first_arg": "every function returns its first argument (a module's forward returns its input)",
    "zeros_like_first": "every function returns zeros shaped like its first tensor or array argument",
    "zeros": "every function returns zeros of the right shape, dtype and structure",
    "ones": "every function returns ones of the right shape (a schedule that keeps the base rate)",
    "constant": "every function returns a constant of the right shape (0.5; 3 for integers)",
    "random": "every function returns random values of the right shape (seeded)",
}

# (strategy, keep_init): the families the standing test grades.  __init__ is kept: measured on
# the whole catalog, a null whose __init__ does nothing too never earned a point that the same
# null with the reference's __init__ did not (it mostly cannot even be called).
FAMILIES: tuple[tuple[str, bool], ...] = tuple((s, True) for s in STRATEGIES)

PREFIX = "_mlkata_"          # every name a null adds starts with this


@dataclass(frozen=True)
class Owner:
    """The function a solution region belongs to."""

    function: ast.FunctionDef
    cls: ast.ClassDef | None      # the module-level class whose method it is, if any
    top_level: bool               # a module-level function or a method of a module-level class

    @property
    def unit(self) -> str:
        """What a learner implements as one piece: a function, or a whole class."""
        return self.cls.name if self.cls else self.function.name

    @property
    def is_init(self) -> bool:
        return self.cls is not None and self.function.name == "__init__"


def _owners(tree: ast.Module, regions: list[build.Region]) -> list[Owner]:
    """The innermost function holding each region."""
    out = []
    for r in regions:
        line = r.start + 1                     # 1-based, like the AST
        best, best_cls, top = None, None, False
        for node in tree.body:
            for cls, fn, is_top in _functions(node):
                if fn.lineno < line <= fn.end_lineno and (best is None or fn.lineno > best.lineno):
                    best, best_cls, top = fn, cls, is_top
        if best is None:
            raise build.BuildError(f"line {line}: a solution region outside any function")
        out.append(Owner(best, best_cls if top else None, top))
    return out


def _functions(node: ast.AST):
    """(module-level class or None, function, is top-level) for every def under ``node``."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        yield None, node, True
        for inner in ast.walk(node):
            if inner is not node and isinstance(inner, (ast.FunctionDef, ast.AsyncFunctionDef)):
                yield None, inner, False
    elif isinstance(node, ast.ClassDef):
        for item in node.body:
            if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                yield node, item, True
                for inner in ast.walk(item):
                    if inner is not item and isinstance(inner, (ast.FunctionDef, ast.AsyncFunctionDef)):
                        yield node, inner, False
    else:
        for inner in ast.walk(node):
            if isinstance(inner, (ast.FunctionDef, ast.AsyncFunctionDef)):
                yield None, inner, False


def units(ex: Exercise) -> list[str]:
    """The pieces a learner implements, in source order: functions and classes with a region."""
    text = ex.reference_source.read_text()
    owners = _owners(ast.parse(text), build.solution_regions(text.splitlines(), ex.id))
    return list(dict.fromkeys(o.unit for o in owners))


def grade_source(ex: Exercise, source: str, **options):
    """Grade ``source`` as the submission of ``ex`` through the normal grading path."""
    from . import grading
    with tempfile.TemporaryDirectory(prefix="mlkata-null-") as tmp:
        target = ex.submission_file(tmp)
        target.parent.mkdir(parents=True)
        target.write_text(source)
        return grading.grade_exercise(ex, tmp, **options)


def scoring_checks(result) -> list[str]:
    """``name (points)`` of every check that gave points, for a message."""
    return [f"{r.name} ({r.score:g} pt)" for r in result.results if r.score > 0]


# --------------------------------------------------------------------------------------------
# Writing the submissions
# --------------------------------------------------------------------------------------------

def null_source(ex: Exercise, strategy: str, keep_init: bool = True) -> str:
    """A do-nothing submission of ``ex`` (see the module docstring)."""
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}; one of {', '.join(STRATEGIES)}")
    return _rewrite(ex, lambda owner, region_lines: _null_body(owner, strategy, keep_init, region_lines),
                    shaped=True)


def partial_source(ex: Exercise, implemented: set[str] | frozenset[str]) -> str:
    """The stub with the reference's regions of the ``implemented`` units filled in."""
    unknown = set(implemented) - set(units(ex))
    if unknown:
        raise ValueError(f"{ex.id} has no unit {', '.join(sorted(unknown))}; units: {', '.join(units(ex))}")

    def body(owner: Owner, region_lines: list[str]) -> list[str] | None:
        if owner.unit in implemented:
            return None                                   # the reference's lines
        return [f'raise NotImplementedError("{owner.function.name}: fill in this part")']

    return _rewrite(ex, body, shaped=False)


def default_mutants(ex: Exercise, overrides: dict | None = None) -> list[tuple[str, str]]:
    """The reference with one default changed at a time: ``(label, source)`` pairs.

    A default the graders never exercise -- every check passes the argument explicitly, or only on
    inputs where the wrong value gives the same answer -- lets a wrong default through.  Each
    literal default of a public function or method (``__init__`` included) is moved to a nearby
    wrong value: a bool flipped, 0 -> 1 (0.1 for floats), a tiny float (an eps) times 100, another
    number halved (ints above 3) or plus one; each number of a tuple of numbers (``betas=(0.9,
    0.999)``, ``feature_range=(0, 1)``) in turn; a string to another string the function compares
    the argument with (``smooth="exp"`` -> ``"none"``: one of the choices it offers).
    ``overrides`` maps ``"function.argument"`` to the value to use instead (where the generic move
    is not a plausible mistake).
    """
    overrides = overrides or {}
    tree = ast.parse(ex.reference_source.read_text())
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) or \
                (node.name.startswith("_") and node.name != "__init__"):
            continue
        a = node.args
        positional = a.posonlyargs + a.args
        pairs = list(zip(positional[len(positional) - len(a.defaults):], a.defaults))
        pairs += [(p, d) for p, d in zip(a.kwonlyargs, a.kw_defaults) if d is not None]
        for param, default in pairs:
            key = f"{node.name}.{param.arg}"
            for target in _literal_slots(default):
                if key in overrides:
                    wrong = overrides[key] if target is default else None
                elif isinstance(target.value, str):
                    wrong = _other_choice(node, param.arg, target.value)
                else:
                    wrong = _wrong_default(target.value)
                if wrong is not None:
                    found.append((key, default, target, wrong))
    out = []
    for key, default, target, wrong in found:
        right, shown = target.value, ast.unparse(default)
        target.value = wrong
        out.append((f"{key}={shown} -> {ast.unparse(default)}", ast.unparse(tree)))
        target.value = right
    return out


def _literal_slots(default: ast.expr) -> list[ast.Constant]:
    """The constants of a default that a mutant may move: the default itself, or each number of
    a tuple of numbers."""
    if isinstance(default, ast.Constant):
        return [default]
    if isinstance(default, ast.Tuple) and all(isinstance(e, ast.Constant) and type(e.value) in (int, float)
                                              for e in default.elts):
        return list(default.elts)
    return []


def _other_choice(function: ast.AST, param: str, value: str) -> str | None:
    """Another string that ``function`` compares ``param`` with (``if smooth == "none"``,
    ``kind in ("k1", "k3")``): a choice the function offers, so a plausible wrong default."""
    choices = []
    for node in ast.walk(function):
        if not isinstance(node, ast.Compare):
            continue
        sides = [node.left, *node.comparators]
        if not any(isinstance(x, ast.Name) and x.id == param for x in sides):
            continue
        for side in sides:
            items = side.elts if isinstance(side, (ast.Tuple, ast.List, ast.Set)) else [side]
            choices += [x.value for x in items if isinstance(x, ast.Constant) and isinstance(x.value, str)]
    others = [c for c in dict.fromkeys(choices) if c != value]
    return others[0] if others else None


def _wrong_default(value):
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return 1 if value == 0 else (value // 2 if value > 3 else value + 1)
    if isinstance(value, float):
        if value == 0:
            return 0.1
        return value * 100 if abs(value) < 1e-3 else value * 0.5
    return None                      # strings, None: no generic wrong value


def _rewrite(ex: Exercise, body_for, shaped: bool) -> str:
    text = ex.reference_source.read_text()
    lines = text.splitlines()
    tree = ast.parse(text)
    regions = build.solution_regions(lines, ex.id)
    owners = _owners(tree, regions)
    out, last = [], 0
    for region, owner in zip(regions, owners):
        out += lines[last:region.start]
        inner = lines[region.start + 1:region.end]
        new = body_for(owner, inner)
        out += inner if new is None else [region.indent + s for s in new]
        last = region.end + 1
    out += lines[last:]
    if shaped:
        out = _add_reference_copies(out, lines, tree, owners)
        out += ["", ""] + HELPERS.splitlines()
    return "\n".join(out) + "\n"


def _null_body(owner: Owner, strategy: str, keep_init: bool, region_lines: list[str]) -> list[str] | None:
    if owner.is_init:
        if keep_init:
            return None
        # do nothing -- but a module must still exist as one
        kept = [line.strip() for line in region_lines if line.strip().startswith("super().__init__(")]
        return kept or ["pass"]
    fn = owner.function
    positional, starred, keywords, double = _parameters(fn, owner.cls is not None)
    args = "(" + "".join(f"{a}, " for a in positional) + (f"*{starred}" if starred else "") + ")"
    kwargs = "{" + ", ".join([f"{k!r}: {k}" for k in keywords] + ([f"**{double}"] if double else [])) + "}"
    ref, self_name = "None", "None"
    if owner.top_level:
        decorators = {ast.unparse(d) for d in fn.decorator_list}
        if owner.cls is None:
            ref = f"{PREFIX}ref__{fn.name}"
        elif "staticmethod" in decorators or "classmethod" in decorators:
            ref = f"{owner.cls.name}.{PREFIX}ref__{fn.name}"
        elif fn.args.posonlyargs or fn.args.args:
            self_name = (fn.args.posonlyargs + fn.args.args)[0].arg
            ref = f"{owner.cls.name}.{PREFIX}ref__{fn.name}"
    return [f"return {PREFIX}null({strategy!r}, {ref}, {self_name}, {args}, {kwargs})"]


def _parameters(fn: ast.FunctionDef, is_method: bool):
    a = fn.args
    positional = [p.arg for p in a.posonlyargs + a.args]
    decorators = {ast.unparse(d) for d in fn.decorator_list}
    if is_method and "staticmethod" not in decorators and positional:
        positional = positional[1:]                       # self / cls
    return (positional, a.vararg.arg if a.vararg else None, [p.arg for p in a.kwonlyargs],
            a.kwarg.arg if a.kwarg else None)


def _add_reference_copies(out: list[str], original: list[str], tree: ast.Module, owners: list[Owner]) -> list[str]:
    """Append the reference of every nulled top-level function (renamed) to the module, and of
    every nulled method to its class, so a shaped null can measure the shape of the answer."""
    wanted = {(o.cls.name if o.cls else None, o.function.name) for o in owners
              if o.top_level and not o.is_init}
    module_level, per_class = [], {}
    for node in tree.body:
        for cls, fn, top in _functions(node):
            key = (cls.name if cls else None, fn.name)
            if not top or key not in wanted:
                continue
            copy = _ToReference(wanted, cls.name if cls else None).visit(ast.parse(ast.unparse(fn)).body[0])
            copy.name = f"{PREFIX}ref__{fn.name}"
            if ast.get_docstring(copy) is not None and len(copy.body) > 1:
                copy.body = copy.body[1:]
            source = ast.unparse(copy)
            if cls is None:
                module_level.append(source)
            else:
                per_class.setdefault(cls.name, []).append(textwrap.indent(source, " " * fn.col_offset))
    # each class gets its copies after its last line (found again in the rewritten text)
    result = list(out)
    for cls_name, sources in per_class.items():
        end = _class_end(result, cls_name)
        result[end:end] = [""] + [line for s in sources for line in s.splitlines()]
    return result + [line for s in module_level for line in ["", ""] + s.splitlines()]


class _ToReference(ast.NodeTransformer):
    """Inside a reference copy, calls of other nulled functions and methods go to their
    reference copies too: the copy measures the reference's answer, not a mix with nulls."""

    def __init__(self, nulled: set[tuple[str | None, str]], cls: str | None):
        self.functions = {name for owner, name in nulled if owner is None}
        self.methods = {name for owner, name in nulled if owner == cls and cls is not None}
        self.cls = cls

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if node.id in self.functions and isinstance(node.ctx, ast.Load):
            return ast.copy_location(ast.Name(f"{PREFIX}ref__{node.id}", node.ctx), node)
        return node

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        self.generic_visit(node)
        if node.attr in self.methods and isinstance(node.value, ast.Name) \
                and node.value.id in ("self", "cls", self.cls):
            node.attr = f"{PREFIX}ref__{node.attr}"
        return node


def _class_end(lines: list[str], cls_name: str) -> int:
    """The index just after the last line of module-level class ``cls_name`` in ``lines``."""
    tree = ast.parse("\n".join(lines))
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == cls_name:
            return node.end_lineno
    raise build.BuildError(f"class {cls_name} not found")


# The runtime half of a null submission, appended to it.  Plain Python, torch and numpy only:
# a null submission must pass the same source policy as a learner's (mlkata/policy.py: no
# `types`, no `inspect`, ...), or it would be refused instead of graded.
HELPERS = '''
import copy as _mlkata_copy_module

import torch as _mlkata_torch

try:
    import numpy as _mlkata_np
except ImportError:      # pragma: no cover - numpy is a dependency
    _mlkata_np = None

_mlkata_gen = _mlkata_torch.Generator().manual_seed(12345)
_MLKATA_FAILED = object()


def _mlkata_null(strategy, ref, owner, args, kwargs):
    """What a do-nothing function returns under ``strategy`` (see mlkata.nulls.STRATEGIES)."""
    if strategy == "none":
        return None
    if strategy == "first_arg":
        return args[0] if args else next(iter(kwargs.values()), None)
    if strategy == "zeros_like_first":
        return _mlkata_like_first(args, kwargs, "zeros")
    want = _mlkata_reference(ref, owner, args, kwargs)
    if want is _MLKATA_FAILED:
        return _mlkata_like_first(args, kwargs, strategy)
    return _mlkata_fill(want, strategy, owner, want_owner=_mlkata_reference.last_owner)


def _mlkata_like_first(args, kwargs, strategy):
    for a in list(args) + list(kwargs.values()):
        if isinstance(a, _mlkata_torch.Tensor) or (_mlkata_np is not None and isinstance(a, _mlkata_np.ndarray)):
            return _mlkata_fill(a, strategy, None)
    return _mlkata_fill(0.0, strategy, None)


def _mlkata_reference(ref, owner, args, kwargs):
    """The reference's answer on deep copies (nothing the caller holds is touched).  A plain
    function among the arguments (a step_fn, a callback) cannot be copied -- deepcopy hands back
    the function itself -- so then the reference is not run: a null never calls back.

    Answers are remembered by the shapes of the arguments (tensors by shape and dtype, plain
    values by value): a check that calls a function ten thousand times pays for one reference
    run and one deep copy per kind of call, not ten thousand."""
    _mlkata_reference.last_owner = None
    if ref is None or _mlkata_calls_back(list(args) + list(kwargs.values())):
        return _MLKATA_FAILED
    key = None
    if owner is None:
        key = (ref, _mlkata_signature(args), _mlkata_signature(kwargs))
        if key[1] is None or key[2] is None:
            key = None
        elif key in _MLKATA_ANSWERS:
            return _MLKATA_ANSWERS[key]
    answer = _mlkata_run_reference(ref, owner, args, kwargs)
    if key is not None and len(_MLKATA_ANSWERS) < 10000:
        _MLKATA_ANSWERS[key] = answer
    return answer


_MLKATA_ANSWERS = {}


def _mlkata_signature(value, budget=None):
    """A hashable summary of ``value``'s shapes and plain values, or None when it has none."""
    budget = [2000] if budget is None else budget
    budget[0] -= 1
    if budget[0] < 0:
        return None
    if value is None or isinstance(value, (bool, int, float, str)):
        return (type(value).__name__, value)
    if isinstance(value, _mlkata_torch.Tensor):
        return ("tensor", tuple(value.shape), str(value.dtype))
    if _mlkata_np is not None and isinstance(value, _mlkata_np.ndarray):
        return ("ndarray", value.shape, str(value.dtype))
    if isinstance(value, (list, tuple)):
        items = tuple(_mlkata_signature(v, budget) for v in value)
        return None if None in items else (type(value).__name__, items)
    if isinstance(value, dict):
        items = tuple((k, _mlkata_signature(v, budget)) for k, v in value.items())
        return None if any(v is None for _, v in items) or not all(isinstance(k, str) for k, _ in items) \
            else ("dict", items)
    if isinstance(value, _mlkata_torch.Generator):
        return ("generator",)
    return None


def _mlkata_run_reference(ref, owner, args, kwargs):
    try:
        args, kwargs = _mlkata_copy_module.deepcopy((args, kwargs))
        if owner is not None:
            owner = _mlkata_copy_module.deepcopy(owner)
            _mlkata_reference.last_owner = owner
            return ref(owner, *args, **kwargs)
        return ref(*args, **kwargs)
    except Exception:
        return _MLKATA_FAILED


def _mlkata_calls_back(values, depth=0):
    for v in values:
        if type(v).__name__ in ("function", "method", "builtin_function_or_method", "partial"):
            return True
        if depth < 2 and isinstance(v, (list, tuple)) and _mlkata_calls_back(v, depth + 1):
            return True
        if depth < 2 and isinstance(v, dict) and _mlkata_calls_back(list(v.values()), depth + 1):
            return True
    return False


def _mlkata_fill(value, strategy, owner, want_owner=None):
    """``value``'s structure with every number replaced under ``strategy``."""
    fill = lambda v: _mlkata_fill(v, strategy, owner, want_owner)   # noqa: E731
    if value is None or isinstance(value, str):
        return None if value is None else ""
    if want_owner is not None and value is want_owner:
        return owner                      # a method returning self (fit) returns the real, untouched self
    if isinstance(value, bool):
        return {"zeros": False, "ones": True, "constant": True}.get(strategy, bool(_mlkata_randint(0, 1)))
    if isinstance(value, int):
        return {"zeros": 0, "ones": 1, "constant": 3}.get(strategy, _mlkata_randint(0, 2 * abs(value) + 1))
    if isinstance(value, float):
        return {"zeros": 0.0, "ones": 1.0, "constant": 0.5}.get(
            strategy, float(_mlkata_torch.rand((), generator=_mlkata_gen)))
    if isinstance(value, _mlkata_torch.Tensor):
        return _mlkata_fill_tensor(value.detach(), strategy)
    if _mlkata_np is not None and isinstance(value, (_mlkata_np.ndarray, _mlkata_np.generic)):
        filled = _mlkata_fill_tensor(_mlkata_torch.as_tensor(_mlkata_np.asarray(value).copy()), strategy)
        out = filled.numpy().astype(_mlkata_np.asarray(value).dtype)
        return out if isinstance(value, _mlkata_np.ndarray) else out[()]
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return type(value)(*[fill(v) for v in value])
    if isinstance(value, (list, tuple)):
        return type(value)(fill(v) for v in value)
    if isinstance(value, dict):
        return {k: fill(v) for k, v in value.items()}
    if isinstance(value, _mlkata_torch.nn.Module):
        module = _mlkata_copy_module.deepcopy(value)
        with _mlkata_torch.no_grad():
            for p in list(module.parameters()) + list(module.buffers()):
                p.copy_(_mlkata_fill_tensor(p, strategy))
        return module
    return None


def _mlkata_randint(low, high):
    return int(_mlkata_torch.randint(low, high + 1, (), generator=_mlkata_gen))


def _mlkata_fill_tensor(t, strategy):
    if t.dtype == _mlkata_torch.bool:
        if strategy == "random":
            return _mlkata_torch.rand(t.shape, generator=_mlkata_gen) < 0.5
        return _mlkata_torch.full_like(t, strategy != "zeros")
    if t.is_floating_point() or t.is_complex():
        if strategy == "random":
            return _mlkata_torch.rand(t.shape, generator=_mlkata_gen).to(t.dtype)
        return _mlkata_torch.full_like(t, {"zeros": 0.0, "ones": 1.0}.get(strategy, 0.5))
    if strategy == "random":      # over the answer's range widened to [0, 1] and one more: never a constant
        low = min(int(t.min()), 0) if t.numel() else 0
        high = max(int(t.max()), 1) + 1 if t.numel() else 1
        return _mlkata_torch.randint(low, high + 1, t.shape, generator=_mlkata_gen).to(t.dtype)
    return _mlkata_torch.full_like(t, {"zeros": 0, "ones": 1}.get(strategy, 3))
'''.strip("\n")
