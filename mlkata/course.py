"""Course mode: nbgrader releases built from the source notebooks, solution releases, and the
leak scan that proves a release holds no solution line and no hidden-test line.

The repository root is the nbgrader course directory (``nbgrader_config.py`` there);
``source/<assignment>/`` comes from ``mlkata build``, ``release/<assignment>/`` from real
``nbgrader generate_assignment`` (through nbgrader's Python API, in this process).
"""
from __future__ import annotations

import hashlib
import os
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
    config = PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
    config.CourseDirectory.root = str(root)
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

def _regions(text: str, begin: str, end: str) -> list[str]:
    lines, inside, out = text.splitlines(), False, []
    for line in lines:
        marker = line.strip()
        if marker == begin:
            inside = True
        elif marker == end:
            inside = False
        elif inside:
            out.append(line.strip())
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
            secret = set(hidden) | set(solution)
            public |= {l.strip() for l in src.splitlines()} - secret
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
