"""Notebook mode: nbgrader source notebooks built from the single source, and the functions
their test cells call so that notebooks are judged by the very same checks.
"""
from __future__ import annotations

import ast
import types

import nbformat

from . import engine
from .catalog import Exercise
from .checks import checks_of

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


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


def source_notebook(ex: Exercise, reference: str) -> str:
    """The nbgrader source notebook of ``ex`` as JSON text (deterministic).

    One graded cell per check, worth that check's points: nbgrader scores a cell all or nothing,
    so per-check cells give the same partial credit as ``mlkata grade``.  Hidden cells call the
    graders by exercise id and check name, so neither the release nor nbgrader's feedback (which
    re-inserts hidden tests) contains a line of grader code.
    """
    from .grading import check_module
    doc, code = _split_docstring(reference)
    visible = checks_of(check_module("visible", ex))
    hidden = checks_of(check_module("hidden", ex))
    name = ex.name
    total = sum(c.points for c in visible + hidden)
    statement = (f"# {ex.title}\n\n`{ex.id}` · {ex.difficulty} · about {ex.minutes} min · {total:g} points\n\n"
                 f"{doc}\n\nFill in the cell marked `YOUR CODE HERE`, run it, then run the checks below. "
                 f"Each check cell is worth the points it shows; hidden checks run when the notebook is graded.")
    setup = ("# Needs the mlkata toolkit in this kernel (pip install -e . in the course repository).\n"
             "import mlkata.notebooks  # noqa: F401")
    cells = [
        nbformat.v4.new_markdown_cell(statement, metadata=_cell_meta(_grade_id(name, "statement")),
                                      id=_grade_id(name, "statement")),
        nbformat.v4.new_code_cell(setup, metadata=_cell_meta(_grade_id(name, "setup")), id=_grade_id(name, "setup")),
        nbformat.v4.new_code_cell(code, metadata=_cell_meta(_grade_id(name, "solution"), solution=True),
                                  id=_grade_id(name, "solution")),
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


class _NamespaceSession(engine.LocalSession):
    """The learner's code lives in the notebook's namespace, not in a file."""

    def __init__(self, namespace: dict, probe_modules, forbidden=()):
        self.student_path = "<notebook>"
        self.forbidden = list(forbidden)
        self.probes = {m.__name__: m for m in probe_modules}
        self.sub, self.import_error = types.SimpleNamespace(**namespace), None


def _verdict(result) -> None:
    """Print one check's verdict; raise (failing the nbgrader cell) unless it passed."""
    if result.passed:
        print(f"PASS {result.title}")
        return
    print(f"FAIL {result.title}\n    " + result.message.replace("\n", "\n    "))
    raise AssertionError(f"check failed: {result.title}")


def _learner_source(namespace: dict, ex) -> str:
    """The code the learner ran in this kernel (IPython keeps inputs in ``_ih``), less the cells
    mlkata wrote: the visible checks' definitions legitimately call the library twins."""
    ours = ex.visible_checks.read_text().strip() if ex.visible_checks.exists() else None
    return "\n".join(x for x in namespace.get("_ih", []) if isinstance(x, str)
                     and x.strip() != ours and "mlkata.notebooks" not in x)


def _judge_in_namespace(namespace: dict, exercise_id: str, chk, hidden: bool, probe_modules) -> None:
    from . import catalog
    ex = catalog.get(exercise_id)
    found = engine.forbidden_in_source(_learner_source(namespace, ex), ex.forbidden)
    if found:
        print(engine.forbidden_message(found))
        raise AssertionError("forbidden call")
    session = _NamespaceSession(namespace, probe_modules, ex.forbidden)
    (result,) = engine.judge([(chk, hidden)], session, hint_command=ex.hint_command)
    _verdict(result)


def run_check(namespace: dict, exercise_id: str, check_name: str) -> None:
    """A visible check, defined in the notebook's own namespace, against the notebook's code."""
    probes = types.SimpleNamespace(**namespace)
    probes.__name__ = namespace.get("__name__", "__main__")
    chk = namespace[check_name]
    _judge_in_namespace(namespace, exercise_id, chk, False, [probes])


def run_hidden_check(namespace: dict, exercise_id: str, check_name: str) -> None:
    """A hidden check of ``exercise_id`` (the instructor's graders), against the notebook's code."""
    from . import catalog
    from .grading import check_module
    ex = catalog.get(exercise_id)
    hidden = check_module("hidden", ex)
    visible = check_module("visible", ex)
    _judge_in_namespace(namespace, exercise_id, getattr(hidden, check_name), True, [hidden, visible])
