"""Course mode: nbgrader releases built from the source notebooks, solution releases, and the
leak scan that proves a release holds no solution line and no hidden-test line.

The repository root is the nbgrader course directory (``nbgrader_config.py`` there);
``source/<assignment>/`` comes from ``mlkata build``, ``release/<assignment>/`` from real
``nbgrader generate_assignment`` (through nbgrader's Python API, in this process).
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import sys
from pathlib import Path

import nbformat

from . import catalog

STAMP = ".mlkata-source.sha256"
HIDDEN_BEGIN, HIDDEN_END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
SOLUTION_BEGIN, SOLUTION_END = "### BEGIN SOLUTION", "### END SOLUTION"


def assignments(root: Path = catalog.ROOT) -> list[str]:
    return sorted({ex.assignment for ex in catalog.load(root).values()})


def source_hash(root: Path, assignment: str) -> str:
    h = hashlib.sha256()
    for nb in sorted((root / "source" / assignment).glob("*.ipynb")):
        h.update(nb.name.encode() + nb.read_bytes())
    return h.hexdigest()


def nbgrader_api(root: Path):
    """nbgrader's API for the course at ``root``, configured by its ``nbgrader_config.py``."""
    # nbgrader creates its gradebook by running `alembic` as a command: make sure the one beside
    # this interpreter is found even when the environment is used without being activated.
    bin_dir = os.path.dirname(sys.executable)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader
    from . import nbgrader_hooks
    config = PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
    config.CourseDirectory.root = str(root)
    nbgrader_hooks.configure(config)      # no warning for what a release changes on purpose
    return NbGraderAPI(CourseDirectory(config=config), config=config)


def release(root: Path = catalog.ROOT, only: list[str] | None = None) -> list[str]:
    """Run ``nbgrader generate_assignment --force`` for each assignment; returns those built."""
    api = nbgrader_api(root)
    built = []
    for assignment in only or assignments(root):
        result = api.generate_assignment(assignment, force=True, create=True)
        if not result.get("success"):
            raise RuntimeError(f"nbgrader generate_assignment {assignment} failed:\n{result.get('log', '')}"
                               f"{result.get('error', '')}")
        (root / "release" / assignment / STAMP).write_text(source_hash(root, assignment) + "\n")
        built.append(assignment)
    return built


def release_problems(root: Path = catalog.ROOT) -> list[str]:
    """Releases missing or older than their source notebooks (for ``mlkata build --check``)."""
    out = []
    for assignment in assignments(root):
        stamp = root / "release" / assignment / STAMP
        if not stamp.exists():
            out.append(f"missing: release/{assignment} (run `mlkata release`)")
        elif stamp.read_text().strip() != source_hash(root, assignment):
            out.append(f"stale: release/{assignment} (run `mlkata release`)")
    return out


# --------------------------------------------------------------------------------------------
# The leak scan
# --------------------------------------------------------------------------------------------

def _regions(text: str, begin: str, end: str, *, inside_wanted: bool = True) -> list[str]:
    """The stripped lines between ``begin`` and ``end`` markers (or, with ``inside_wanted=False``,
    the lines outside every such region, markers excluded)."""
    lines, inside, out = text.splitlines(), False, []
    for line in lines:
        marker = line.strip()
        if marker == begin:
            inside = True
        elif marker == end:
            inside = False
        elif inside == inside_wanted:
            out.append(marker)
    return out


def secret_lines(root: Path, assignment: str) -> dict[str, str]:
    """Lines that must never reach a release: solution lines, hidden-test lines, and every line of
    the hidden graders -- less those that the source also has outside any secret region (a
    ``return out`` that the statement shows is no leak).  Maps line -> where it comes from."""
    secrets: dict[str, str] = {}
    public: set[str] = set()
    for path in sorted((root / "source" / assignment).glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            src = cell.source
            hidden = _regions(src, HIDDEN_BEGIN, HIDDEN_END)
            solution = _regions(src, SOLUTION_BEGIN, SOLUTION_END)
            for line in hidden:
                secrets.setdefault(line, f"hidden test in {path.name}")
            for line in solution:
                secrets.setdefault(line, f"solution in {path.name}")
            # a line the learner is shown outside every secret region is no leak, even if a
            # solution region holds the same line (`if axis is None:` given in one function,
            # written by the learner in another)
            outside_hidden = set(_regions(src, HIDDEN_BEGIN, HIDDEN_END, inside_wanted=False))
            public |= outside_hidden & set(_regions(src, SOLUTION_BEGIN, SOLUTION_END, inside_wanted=False))
        grader = root / "graders" / f"{nb.metadata['mlkata']['exercise']}.py"
        for line in grader.read_text().splitlines() if grader.exists() else []:
            secrets.setdefault(line.strip(), f"grader {grader.relative_to(root)}")
    meaningful = lambda l: len(l) >= 12 and not l.startswith(("#", '"""', "import ", "from ")) and l not in public  # noqa: E731
    return {line: where for line, where in secrets.items() if meaningful(line)}


def leaks(root: Path, assignment: str, folder: Path | None = None) -> list[str]:
    """Every secret line found in the release folder (any file, any cell, outputs included)."""
    folder = folder or root / "release" / assignment
    secrets = secret_lines(root, assignment)
    found = []
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path.name == STAMP:
            continue
        text = path.read_text(errors="replace")
        if path.suffix == ".ipynb":      # compare cell text, not JSON-escaped strings
            nb = nbformat.reads(text, as_version=4)
            text = "\n".join(c.source for c in nb.cells) + "\n" + "\n".join(
                str(o) for c in nb.cells for o in c.get("outputs", []))
        lines = {l.strip() for l in text.splitlines()}
        found += [f"{path.relative_to(folder)}: {where}: {line}" for line, where in secrets.items() if line in lines]
    return found


# --------------------------------------------------------------------------------------------
# Solution release: filled-in notebooks, hidden checks removed, executed (for after the deadline)
# --------------------------------------------------------------------------------------------

def solution_notebook(source: Path) -> nbformat.NotebookNode:
    nb = nbformat.read(source, as_version=4)
    keep = []
    for cell in nb.cells:
        if HIDDEN_BEGIN in cell.source:
            continue
        if cell.metadata.get("mlkata", {}).get("given"):          # code given to fix: show it fixed
            from .notebooks import solution_code
            cell.source = solution_code(catalog.get(nb.metadata["mlkata"]["exercise"]))
        cell.source = "\n".join(l for l in cell.source.splitlines() if l.strip() not in (SOLUTION_BEGIN, SOLUTION_END))
        cell.metadata.pop("nbgrader", None)
        keep.append(cell)
    nb.cells = keep
    return nb


def publish_solutions(root: Path, out: Path, only: list[str] | None = None, timeout: int = 300) -> list[Path]:
    """Write ``out/<assignment>/<name>.ipynb``: solutions in, hidden checks out, outputs executed."""
    from nbclient import NotebookClient
    written = []
    for assignment in only or assignments(root):
        target_dir = out / assignment
        shutil.rmtree(target_dir, ignore_errors=True)
        target_dir.mkdir(parents=True)
        for source in sorted((root / "source" / assignment).glob("*.ipynb")):
            nb = solution_notebook(source)
            NotebookClient(nb, timeout=timeout, kernel_name="python3",
                           resources={"metadata": {"path": str(target_dir)}}).execute()
            target = target_dir / source.name
            nbformat.write(nb, target)
            written.append(target)
    return written


# --------------------------------------------------------------------------------------------
# Class-wide autograde through mlkata's sandboxed, parallel path (nbgrader autograde runs one
# notebook after another, ~3 s each); scores are recorded with nbgrader's own Gradebook API and
# graded notebooks written to autograded/, so formgrader, export and feedback keep working.
# --------------------------------------------------------------------------------------------

def _check_cell_ids(ex) -> dict[str, tuple[str, bool]]:
    """grade_id of each check cell -> (check name, hidden)."""
    from .grading import checks_for
    from .notebooks import _grade_id
    return {_grade_id(ex.name, f"{'h' if hidden else 'v'}-{c.name}"): (c.name, hidden)
            for c, hidden in checks_for(ex)}


def _extract_submission(notebook: Path, target_root: Path) -> str | None:
    """Write the notebook's solution cells as ``<area>/<name>.py`` under ``target_root``."""
    nb = nbformat.read(notebook, as_version=4)
    ex_id = nb.metadata.get("mlkata", {}).get("exercise")
    if not ex_id:
        return None
    code = "\n\n".join(c.source for c in _solution_cells(nb))
    ex = catalog.get(ex_id)
    target = ex.submission_file(target_root)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(code + "\n")
    return ex_id


def _solution_cells(nb) -> list:
    from .notebooks import learner_cells
    return learner_cells(nb)


def in_cells(message: str, nb) -> str:
    """``message`` with each ``your file, line N`` -- a line of the file :func:`_extract_submission`
    wrote -- named by the notebook cell it came from (``cell In [n], line L``), as the learner saw it."""
    starts, line = [], 1
    for cell in _solution_cells(nb):
        starts.append((line, cell))
        line += len(cell.source.split("\n")) + 1          # cells are joined by a blank line

    def cell_line(match) -> str:
        n = int(match.group(1))
        start, cell = next(((s, c) for s, c in reversed(starts) if s <= n), (1, None))
        if cell is None:
            return match.group(0)
        label = f"cell In [{cell.execution_count}]" if cell.get("execution_count") else "your solution cell"
        return f"{label}, line {n - start + 1}"

    return re.sub(r"your file, line (\d+)", cell_line, message)


def grade_checks(submission: str, exercise_ids: list[str], options: dict) -> dict:
    """{exercise id: {check name: (score, message)}} for one student (runs in a pool worker)."""
    from . import batch, grading
    batch.single_thread()
    result = grading.grade(submission, exercise_ids, jobs=1, **options)
    return {ex.id: {r.name: (r.score, r.message) for r in ex.results} for ex in result.exercises}


def fast_autograde(root: Path, assignment: str, *, workers: int | None = None, options: dict | None = None,
                   progress=None) -> dict[str, dict[str, float]]:
    """Autograde every ``submitted/<student>/<assignment>/`` of the course at ``root``.

    Returns {student: {notebook name: score}}; the gradebook, ``autograded/`` and the scores match
    what ``nbgrader autograde`` produces for the same notebooks (tested).
    """
    import tempfile

    from nbgrader.api import Gradebook

    from . import batch
    submitted = root / "submitted"
    students = sorted(p.name for p in submitted.iterdir() if (p / assignment).is_dir()) if submitted.is_dir() else []
    with tempfile.TemporaryDirectory(prefix="mlkata-autograde-") as tmp:
        jobs, ids_of = [], {}
        for student in students:
            folder = Path(tmp) / student
            ids_of[student] = [i for i in (_extract_submission(nb, folder) for nb in
                                           sorted((submitted / student / assignment).glob("*.ipynb"))) if i]
            jobs.append((student, str(folder)))
        verdicts: dict[str, dict] = {}

        def done(student, result, error):
            if error:
                raise RuntimeError(f"grading {student} failed: {error}")
            verdicts[student] = result
            if progress:
                progress(student, len(verdicts), len(jobs))

        batch.run_local([(student, grade_checks, (path, ids_of[student], options or {})) for student, path in jobs],
                        workers or os.cpu_count() or 1, done)
    scores: dict[str, dict[str, float]] = {}
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        for student in students:
            gb.update_or_create_student(student)
            try:
                gb.remove_submission(assignment, student)
            except Exception:  # noqa: BLE001 - none yet
                pass
            sub = gb.add_submission(assignment, student)
            scores[student] = {}
            for nb in sub.notebooks:
                ex = _exercise_of_notebook(root, assignment, nb.name)
                cells = _check_cell_ids(ex) if ex else {}
                got = verdicts[student].get(ex.id, {}) if ex else {}
                for grade in nb.grades:
                    check, _ = cells.get(grade.name, (None, False))
                    grade.auto_score = got.get(check, (0.0, ""))[0] if check else 0.0
                gb.db.commit()
                scores[student][nb.name] = nb.score
                if ex:
                    _write_autograded(root, assignment, student, nb.name, cells, got)
    return scores


def _exercise_of_notebook(root: Path, assignment: str, name: str):
    path = root / "source" / assignment / f"{name}.ipynb"
    ex_id = nbformat.read(path, as_version=4).metadata.get("mlkata", {}).get("exercise") if path.exists() else None
    return catalog.get(ex_id) if ex_id else None


def _write_autograded(root: Path, assignment: str, student: str, name: str, cells: dict, verdicts: dict) -> None:
    """The submitted notebook with each check cell's verdict as its output (what feedback shows)."""
    source = root / "submitted" / student / assignment / f"{name}.ipynb"
    nb = nbformat.read(source, as_version=4)
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.cell_type != "code" or gid not in cells:
            continue
        score, message = verdicts.get(cells[gid][0], (0.0, "not graded"))
        text = "PASS\n" if score > 0 or not message else f"FAIL\n{in_cells(message, nb)}\n"
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)]
    target = root / "autograded" / student / assignment / f"{name}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, target)
    stamp = root / "submitted" / student / assignment / "timestamp.txt"
    if stamp.exists():
        shutil.copyfile(stamp, target.parent / "timestamp.txt")
