"""``mlkata course dry-run ASSIGNMENT``: check a course before releasing it.

In a temporary nbgrader course holding the assignment's source notebooks, real ``nbgrader
generate_assignment`` and ``nbgrader autograde`` grade three students:

* **reference** -- every solution cell filled in with the reference: full marks expected;
* **stub** -- the release handed in untouched: zero expected;
* **half-solved** -- the reference with its later solution regions left as nbgrader's stub
  (an exercise with a single region: its first buggy variant from tests/variants/, if any):
  partial credit expected.

Each nbgrader score is set beside what ``mlkata grade`` (sandboxed) gives the very same code, so
the table shows both that the course grades what it should (full / zero / partial) and that
nbgrader's per-cell scoring agrees with mlkata's checks.
"""
from __future__ import annotations

import shutil
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from . import catalog
from .build import solution_regions
from .course import SOLUTION_BEGIN, SOLUTION_END, _extract_submission, nbgrader_api

KINDS = ("reference", "stub", "half-solved")


@dataclass
class Row:
    exercise: str
    points: float
    nbgrader: dict[str, float] = field(default_factory=dict)   # kind -> nbgrader's score
    expected: dict[str, float] = field(default_factory=dict)   # kind -> mlkata grade of the same code

    def problems(self) -> list[str]:
        """What is wrong with this exercise's course, in words; empty when all is as it should be."""
        out = [f"{kind}: nbgrader gave {self.nbgrader[kind]:g}, mlkata grade {self.expected[kind]:g}"
               for kind in self.nbgrader if self.nbgrader[kind] != self.expected.get(kind)]
        if self.nbgrader.get("reference") != self.points:
            out.append(f"the reference scores {self.nbgrader.get('reference', 0):g} of {self.points:g}")
        if self.nbgrader.get("stub", 0) != 0:
            out.append(f"the untouched stub scores {self.nbgrader['stub']:g}, not 0")
        half = self.nbgrader.get("half-solved")
        if half is not None and not 0 < half < self.points:
            out.append(f"the half-solved notebook scores {half:g}: no partial credit")
        return out


def _without_markers(source: str) -> str:
    return "\n".join(line for line in source.split("\n") if line.strip() not in (SOLUTION_BEGIN, SOLUTION_END))


def half_solved(ex, solution_source: str) -> str | None:
    """The solution cell with its later solution regions (at least one, not all) replaced by what
    nbgrader releases; with a single region, the exercise's first buggy variant; else None."""
    lines = solution_source.split("\n")
    regions = [] if _given(ex) else solution_regions(lines, ex.id)
    if len(regions) < 2:
        bugs = sorted((ex.root / "tests" / "variants" / ex.id).glob("bug_*.py"))
        return bugs[0].read_text() if bugs else None
    stubbed = regions[len(regions) // 2:]
    out, last = [], 0
    for r in stubbed:
        out += lines[last:r.start]
        out += [f"{r.indent}# YOUR CODE HERE", f"{r.indent}raise NotImplementedError()"]
        last = r.end + 1
    return _without_markers("\n".join(out + lines[last:]))


def _solution_cell(nb):
    from .notebooks import learner_cells
    return learner_cells(nb)[0]


def _given(ex) -> bool:
    from .build import gives_code
    return gives_code(ex)


def dry_run(root: Path, assignment: str, exercise_ids: list[str] | None = None, progress=None) -> list[Row]:
    """Grade the three students of every notebook of ``assignment`` (or of ``exercise_ids`` only)."""
    from nbgrader.api import Gradebook

    from . import grading
    chosen = [ex for ex in catalog.load(root).values() if ex.assignment == assignment
              and (not exercise_ids or ex.id in exercise_ids)]
    if not chosen:
        raise ValueError(f"no exercise of assignment {assignment!r}" + (f" among {exercise_ids}" if exercise_ids else ""))
    rows = {ex.id: Row(ex.id, sum(c.points for c, _ in grading.checks_for(ex))) for ex in chosen}
    with tempfile.TemporaryDirectory(prefix="mlkata-dry-run-") as tmp:
        course = Path(tmp) / "course"
        (course / "source" / assignment).mkdir(parents=True)
        shutil.copyfile(root / "nbgrader_config.py", course / "nbgrader_config.py")
        for ex in chosen:
            shutil.copyfile(ex.notebook, course / "source" / assignment / ex.notebook.name)
        api = nbgrader_api(course)
        _succeeded(api.generate_assignment(assignment, force=True, create=True), "generate_assignment")
        for kind in KINDS:
            for ex in chosen:
                _hand_in(course, assignment, kind, ex)
            if progress:
                progress(f"nbgrader autograde: {kind}")
            with warnings.catch_warnings():
                # nbgrader 0.9.6 under SQLAlchemy 2.1 warns for every new student; the scores are right
                warnings.filterwarnings("ignore", message=r"Object of type <Submitted\w+> not in session")
                _succeeded(api.autograde(assignment, kind, force=True, create=True), f"autograde {kind}")
            _expected(course, assignment, kind, rows)
        with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
            for ex in chosen:
                for kind in KINDS:
                    if (course / "submitted" / kind / assignment / ex.notebook.name).exists():
                        rows[ex.id].nbgrader[kind] = gb.find_submission_notebook(ex.name, assignment, kind).score
    return list(rows.values())


def _hand_in(course: Path, assignment: str, kind: str, ex) -> None:
    source = nbformat.read(ex.notebook, as_version=4)
    nb = nbformat.read(course / "release" / assignment / ex.notebook.name, as_version=4)
    reference = _solution_cell(source).source
    if _given(ex):                   # the notebook holds the code to fix: the reference is the fixed code
        from .notebooks import solution_code
        reference = solution_code(ex)
    code = {"reference": _without_markers(reference), "stub": None, "half-solved": half_solved(ex, reference)}[kind]
    if kind == "half-solved" and code is None:
        return                       # one solution region and no buggy variant: nothing half-solved
    if code is not None:
        _solution_cell(nb).source = code
    target = course / "submitted" / kind / assignment / ex.notebook.name
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, target)


def _expected(course: Path, assignment: str, kind: str, rows: dict[str, Row]) -> None:
    """What ``mlkata grade`` (sandboxed) gives the code each submitted notebook holds."""
    from . import grading
    folder = course / "extracted" / kind
    ids = [i for i in (_extract_submission(nb, folder) for nb in
                       sorted((course / "submitted" / kind / assignment).glob("*.ipynb"))) if i]
    for ex in grading.grade(folder, ids).exercises:
        rows[ex.id].expected[kind] = ex.score


def _succeeded(result: dict, what: str) -> None:
    if not result.get("success"):
        raise RuntimeError(f"nbgrader {what} failed:\n{result.get('log', '')[-3000:]}{result.get('error', '')}")
