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


def source_notebook(ex: Exercise, reference: str) -> str:
    """The nbgrader source notebook of ``ex`` as JSON text (deterministic)."""
    from .grading import check_module
    doc, code = _split_docstring(reference)
    visible = checks_of(check_module("visible", ex))
    hidden = checks_of(check_module("hidden", ex))
    name = ex.name
    statement = (f"# {ex.title}\n\n`{ex.id}` · {ex.difficulty} · about {ex.minutes} min · "
                 f"{sum(c.points for c in visible + hidden):g} points\n\n{doc}\n\n"
                 f"Fill in the cell marked `YOUR CODE HERE`; the next cell runs the visible checks.")
    visible_src = ex.visible_checks.read_text().rstrip("\n") + \
        f'\n\nfrom mlkata.notebooks import run_visible\nrun_visible(globals(), "{ex.id}")\n'
    hidden_src = ("# Hidden checks run when the notebook is graded.\n"
                  "### BEGIN HIDDEN TESTS\n"
                  f'from mlkata.notebooks import run_hidden\nrun_hidden(globals(), "{ex.id}")\n'
                  "### END HIDDEN TESTS\n")
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": KERNELSPEC,
                                            "language_info": {"name": "python"},
                                            "mlkata": {"exercise": ex.id}})
    nb.cells = [
        nbformat.v4.new_markdown_cell(statement, metadata=_cell_meta(f"{name}-statement"), id=f"{name}-statement"),
        nbformat.v4.new_code_cell(code, metadata=_cell_meta(f"{name}-solution", solution=True),
                                  id=f"{name}-solution"),
        nbformat.v4.new_code_cell(visible_src, metadata=_cell_meta(
            f"{name}-visible", grade=True, points=sum(c.points for c in visible)), id=f"{name}-visible"),
        nbformat.v4.new_code_cell(hidden_src, metadata=_cell_meta(
            f"{name}-hidden", grade=True, points=sum(c.points for c in hidden)), id=f"{name}-hidden"),
    ]
    return nbformat.writes(nb) + "\n"


class _NamespaceSession(engine.LocalSession):
    """The learner's code lives in the notebook's namespace, not in a file."""

    def __init__(self, namespace: dict, probe_modules, forbidden=()):
        self.student_path = "<notebook>"
        self.forbidden = list(forbidden)
        self.probes = {m.__name__: m for m in probe_modules}
        self.sub, self.import_error = types.SimpleNamespace(**namespace), None


def _report(exercise_id: str, results) -> None:
    failed = [r for r in results if not r.passed]
    for r in results:
        mark = "PASS" if r.passed else "FAIL"
        print(f"{mark} {r.title}" + ("" if r.passed else "\n    " + r.message.replace("\n", "\n    ")))
    if failed:
        raise AssertionError(f"{exercise_id}: {len(failed)} of {len(results)} checks failed (see above)")


def run_visible(namespace: dict, exercise_id: str) -> None:
    """Run the visible checks defined in the notebook against the notebook's own code."""
    probes = types.SimpleNamespace(**namespace)
    probes.__name__ = namespace.get("__name__", "__main__")
    session = _NamespaceSession(namespace, [probes])
    _report(exercise_id, engine.judge([(c, False) for c in checks_of(probes)], session,
                                      hint_command=f"mlkata hint {exercise_id}"))


def run_hidden(namespace: dict, exercise_id: str) -> None:
    """Run the hidden graders of ``exercise_id`` against the notebook's code (instructor side)."""
    from . import catalog
    from .grading import check_module
    ex = catalog.get(exercise_id)
    module = check_module("hidden", ex)
    source = "\n".join(str(v) for k, v in namespace.items() if k.startswith("_i") and isinstance(v, str))
    found = engine.forbidden_in_source(source, ex.forbidden) if source else []
    if found:
        raise AssertionError(engine.forbidden_message(found))
    session = _NamespaceSession(namespace, [module], ex.forbidden)
    _report(exercise_id, engine.judge([(c, True) for c in checks_of(module)], session))
