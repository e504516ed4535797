"""Notebook mode: nbgrader source notebooks built from the single source, and the functions
their test cells call so that notebooks are judged by the very same checks.
"""
from __future__ import annotations

import ast
import copy
import linecache
import os
import traceback
import types

from . import engine, wire
from .catalog import Exercise
from .checks import CheckResult, Probe, checks_of

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


# The first code cell of every notebook.  Students need only the student toolkit (a wheel the
# course hands out, built by `mlkata student-wheel`: the toolkit and the visible checks, no answers);
# at autograde the instructor's full install is already there and the cell installs nothing.
SETUP_CELL = """\
# Setup: the mlkata student toolkit runs the checks below (it holds no answers).  Install the wheel
# your course hands out once -- pip install mlkata_student-*.whl -- or leave it beside this
# notebook (or one folder up) and this cell installs it.
import glob, importlib, importlib.util, subprocess, sys
if importlib.util.find_spec("mlkata") is None:
    wheels = sorted(glob.glob("mlkata_student-*.whl") + glob.glob("../mlkata_student-*.whl"))
    if not wheels:
        raise ModuleNotFoundError("mlkata is not installed: pip install the mlkata_student wheel of your course")
    subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet", wheels[-1]])
    importlib.invalidate_caches()
import mlkata.notebooks  # noqa: E402,F401"""


def _cell_meta(grade_id: str, *, solution: bool = False, grade: bool = False, points: float = 0) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": not solution, "schema_version": 3,
            "solution": solution, "task": False}
    if grade:
        meta["points"] = points
    return {"nbgrader": meta}


def _split_docstring(source: str) -> tuple[str, str]:
    """(module docstring, the rest of the source)."""
    tree = ast.parse(source)
    doc = ast.get_docstring(tree) or ""
    if doc and tree.body and isinstance(tree.body[0], ast.Expr):
        lines = source.splitlines()
        rest = "\n".join(lines[tree.body[0].end_lineno:]).strip("\n")
        return doc, rest
    return doc, source


def _grade_id(name: str, suffix: str) -> str:
    return f"{name}-{suffix}".replace("_", "-")


GIVEN_META = {"mlkata": {"given": True}}


def learner_cells(nb) -> list:
    """The code cells holding the learner's code: nbgrader solution cells, and given code to fix."""
    return [c for c in nb.cells if c.cell_type == "code" and (c.metadata.get("nbgrader", {}).get("solution")
                                                               or c.metadata.get("mlkata", {}).get("given"))]


def solution_code(ex: Exercise) -> str:
    """The reference's code as a notebook holds it: no module docstring, no markers, no given code."""
    from .build import without_markers
    lines = without_markers(ex.reference_source.read_text().splitlines(), ex.id)
    return _split_docstring("\n".join(lines))[1]


def source_notebook(ex: Exercise, reference: str) -> str:
    """The nbgrader source notebook of ``ex`` as JSON text (deterministic).

    One graded cell per check, worth that check's points: nbgrader scores a cell all or nothing,
    so per-check cells give the same partial credit as ``mlkata grade``.  Hidden cells call the
    graders by exercise id and check name, so neither the release nor nbgrader's feedback (which
    re-inserts hidden tests) contains a line of grader code.
    """
    import nbformat
    from .build import notebook_code
    from .grading import check_module
    doc, code = _split_docstring(reference)
    code, for_nbgrader = notebook_code(code.split("\n"), ex.id)
    visible = checks_of(check_module("visible", ex))
    hidden = checks_of(check_module("hidden", ex))
    name = ex.name
    total = sum(c.points for c in visible + hidden)
    statement = (f"# {ex.title}\n\n`{ex.id}` · {ex.difficulty} · about {ex.minutes} min · {total:g} points\n\n"
                 f"{doc}\n\n" + ("Fill in the cell marked `YOUR CODE HERE`, run it, then run the checks below. "
                                  if for_nbgrader else "The code cell below runs but has bugs: find and fix them, "
                                  "run it, then run the checks below. ") +
                 "Each check cell is worth the points it shows; hidden checks run when the notebook is graded.")
    # Code the learner is given to fix (no region left for nbgrader to clear) is a plain editable
    # cell, marked for mlkata's course tools: nbgrader would replace a solution cell without regions.
    code_meta = _cell_meta(_grade_id(name, "solution"), solution=True) if for_nbgrader else GIVEN_META
    setup = SETUP_CELL
    cells = [
        nbformat.v4.new_markdown_cell(statement, metadata=_cell_meta(_grade_id(name, "statement")),
                                      id=_grade_id(name, "statement")),
        nbformat.v4.new_code_cell(setup, metadata=_cell_meta(_grade_id(name, "setup")), id=_grade_id(name, "setup")),
        nbformat.v4.new_code_cell(code, metadata=code_meta, id=_grade_id(name, "solution")),
        nbformat.v4.new_markdown_cell("## Visible checks", metadata=_cell_meta(_grade_id(name, "checks-title")),
                                      id=_grade_id(name, "checks-title")),
        nbformat.v4.new_code_cell(ex.visible_checks.read_text().rstrip("\n"),
                                  metadata=_cell_meta(_grade_id(name, "visible-defs")),
                                  id=_grade_id(name, "visible-defs")),
    ]
    for chk in visible:
        gid = _grade_id(name, f"v-{chk.name}")
        src = f'# {chk.title} ({chk.points:g} pt)\nmlkata.notebooks.run_check(globals(), "{ex.id}", "{chk.name}")'
        cells.append(nbformat.v4.new_code_cell(src, metadata=_cell_meta(gid, grade=True, points=chk.points), id=gid))
    for chk in hidden:
        gid = _grade_id(name, f"h-{chk.name}")
        src = (f"# hidden check ({chk.points:g} pt)\n### BEGIN HIDDEN TESTS\n"
               f'mlkata.notebooks.run_hidden_check(globals(), "{ex.id}", "{chk.name}")\n### END HIDDEN TESTS')
        cells.append(nbformat.v4.new_code_cell(src, metadata=_cell_meta(gid, grade=True, points=chk.points), id=gid))
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": KERNELSPEC, "language_info": {"name": "python"},
                                            "mlkata": {"exercise": ex.id}})
    nb.cells = cells
    return nbformat.writes(nb) + "\n"


class CheckFailed(AssertionError):
    """A check cell's failure.  The verdict printed above it already names the rule, the expected
    value and what the code produced, so the error shows as one line: no traceback through the
    toolkit, with the grading machine's paths, in the notebook or in nbgrader's feedback."""

    def _render_traceback_(self) -> list[str]:     # IPython shows this instead of a traceback
        return [f"{type(self).__name__}: {self}"]


def _graded_run() -> bool:
    """True while nbgrader autogrades or validates (it sets NBGRADER_EXECUTION in the kernel):
    a failing check must then fail its cell, which is how nbgrader scores it.  In the learner's
    own session a failing check reports and lets "Run All" go on to the next check."""
    return bool(os.environ.get("NBGRADER_EXECUTION"))


class _NamespaceSession(engine.LocalSession):
    """The learner's code lives in the notebook's namespace, not in a file.

    A failure is located by notebook cell -- ``cell In [3], line 19, in top_k_filter``, the
    ``In [n]`` the learner sees -- not by the kernel's temporary file for that cell.
    """

    def __init__(self, namespace: dict, probe_modules, forbidden=(), ours: tuple[str, ...] = ()):
        self.student_path = "<notebook>"
        self.forbidden = list(forbidden)
        self.probes = {m.__name__: m for m in probe_modules}
        self.sub, self.import_error = types.SimpleNamespace(**namespace), None
        self.ours = ours            # sources of the cells mlkata wrote (the checks' definitions)
        self.raised: BaseException | None = None

    def call(self, target, args, kwargs):
        self.raised = None
        sub, probes = self._traced(target)
        # deep copies stand in for the process boundary, as in LocalSession
        record = wire.roundtrip(engine.invoke(sub, probes, target, copy.deepcopy(args), copy.deepcopy(kwargs),
                                              self.forbidden, self.student_path))
        error = record.get("__error__")
        if error is not None:
            error["message"] = error["message"].replace("your module defines no", "your notebook defines no")
            where = cell_where(self.raised, self.ours) if self.raised is not None else None
            error["where"] = where or error.get("where", "")
        return record

    def _traced(self, target):
        """The learner's module and the probes, with the one entry point of this call wrapped so
        that an exception it raises is kept (engine.invoke reports it, but keeps no traceback)."""
        kind, name = target
        if kind == "call":
            fn = getattr(self.sub, name, None)
            if fn is None:
                return self.sub, self.probes
            sub = types.SimpleNamespace(**vars(self.sub))
            setattr(sub, name, self._keep_exception(fn))
            return sub, self.probes
        module_name, probe_name = name.split(":")
        found = getattr(self.probes[module_name], probe_name)
        traced = types.SimpleNamespace(**{probe_name: Probe(found.name, self._keep_exception(found.fn))})
        return self.sub, {**self.probes, module_name: traced}

    def _keep_exception(self, fn):
        def traced(*args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except BaseException as e:
                self.raised = e
                raise
        return traced


def _cell_numbers() -> dict[str, int]:
    """The kernel's file name for each cell it ran -> the cell's execution count (``In [n]``)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return {}
    shell = get_ipython()
    return dict(getattr(getattr(shell, "compile", None), "_filename_map", {}) or {})


def cell_where(exc: BaseException, ours: tuple[str, ...] = ()) -> str | None:
    """``cell In [n], line L, in f`` for the innermost frame of ``exc`` in a cell the learner
    wrote (cells mlkata wrote -- whose source is one of ``ours`` or calls mlkata.notebooks --
    are skipped: a probe is not where the learner's bug is); None outside a kernel."""
    cells = _cell_numbers()
    if not cells:
        return None
    mine = set()
    for filename in cells:
        source = "".join(linecache.getlines(filename)).strip()
        if source and source not in ours and "mlkata.notebooks" not in source:
            mine.add(filename)
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename in mine]
    if not frames:
        return None
    f = frames[-1]
    return f"cell In [{cells[f.filename]}], line {f.lineno}, in {f.name}"


def _verdict(result, *, must_fail_cell: bool) -> None:
    """Print one check's verdict.  A failure fails the cell (raises) only when nbgrader is grading
    the notebook or ``must_fail_cell`` (hidden checks run only then anyway)."""
    if result.passed:
        print(f"PASS {result.title}")
        return
    label = "TODO" if result.status == "todo" else "FAIL"
    print(f"{label} {result.title}\n    " + _without_paths(result).replace("\n", "\n    "))
    if must_fail_cell or _graded_run():
        raise CheckFailed(f"check failed: {result.title}")


def _without_paths(result) -> str:
    """The message, less the traceback of a check that itself broke (it names files on the grading
    machine; the learner and the feedback need only its last line)."""
    if result.status != "error":
        return result.message
    lines = result.message.splitlines()
    return f"{lines[0]}\n{lines[-1]}" if len(lines) > 1 else result.message


def _learner_source(namespace: dict, ex) -> str:
    """The code the learner ran in this kernel (IPython keeps inputs in ``_ih``), less the cells
    mlkata wrote: the visible checks' definitions legitimately call the library twins."""
    ours = ex.visible_checks.read_text().strip() if ex.visible_checks.exists() else None
    return "\n".join(x for x in namespace.get("_ih", []) if isinstance(x, str)
                     and x.strip() != ours and "mlkata.notebooks" not in x)


def _judge_in_namespace(namespace: dict, exercise_id: str, chk, hidden: bool, probe_modules) -> None:
    ex = exercise(exercise_id)
    found = engine.forbidden_in_source(_learner_source(namespace, ex), ex.forbidden)
    if found:
        result = CheckResult(chk.name, chk.title, chk.points, 0.0, "failed", engine.forbidden_message(found),
                             hidden=hidden)
    else:
        ours = (ex.visible_checks.read_text().strip(),) if ex.visible_checks.exists() else ()
        session = _NamespaceSession(namespace, probe_modules, ex.forbidden, ours)
        (result,) = engine.judge([(chk, hidden)], session, hint_command=ex.hint_command)
    _verdict(result, must_fail_cell=hidden)


def exercise(exercise_id: str):
    """The exercise's public record: from the catalog where the course repository is installed,
    else from the student toolkit's bundled index (see :mod:`mlkata.student`)."""
    from . import student
    if student.bundled():
        return student.exercise(exercise_id)
    from . import catalog
    return catalog.get(exercise_id)


def run_check(namespace: dict, exercise_id: str, check_name: str) -> None:
    """A visible check, defined in the notebook's own namespace, against the notebook's code."""
    probes = types.SimpleNamespace(**namespace)
    probes.__name__ = namespace.get("__name__", "__main__")
    chk = namespace[check_name]
    _judge_in_namespace(namespace, exercise_id, chk, False, [probes])


def run_hidden_check(namespace: dict, exercise_id: str, check_name: str) -> None:
    """A hidden check of ``exercise_id`` (the instructor's graders), against the notebook's code."""
    from . import student
    if student.bundled():
        raise CheckFailed("hidden checks run only when the course grades your notebook")
    from . import catalog
    from .grading import check_module
    ex = catalog.get(exercise_id)
    hidden = check_module("hidden", ex)
    visible = check_module("visible", ex)
    _judge_in_namespace(namespace, exercise_id, getattr(hidden, check_name), True, [hidden, visible])
