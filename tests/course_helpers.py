"""Build a temporary nbgrader course from mlkata's source notebooks, and students' submissions."""
from __future__ import annotations

import shutil
from pathlib import Path

import nbformat

from mlkata import catalog, course
from helpers import ROOT


def make_course(folder: Path, assignment: str, exercise_ids: list[str]) -> Path:
    """A course directory holding only ``exercise_ids`` in ``assignment``, released by nbgrader."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(ROOT / "nbgrader_config.py", folder / "nbgrader_config.py")
    src = folder / "source" / assignment
    src.mkdir(parents=True)
    for ex_id in exercise_ids:
        ex = catalog.get(ex_id)
        shutil.copyfile(ex.notebook, src / ex.notebook.name)
    result = course.nbgrader_api(folder).generate_assignment(assignment, force=True, create=True)
    assert result["success"], result.get("log", "") + str(result.get("error", ""))
    return folder


def submit(course_dir: Path, assignment: str, student: str, implementations: dict[str, Path | None]) -> None:
    """Student ``student`` submits the release with each exercise's solution cell replaced by the
    file given (None: hands the notebook in untouched)."""
    for ex_id, impl in implementations.items():
        name = catalog.get(ex_id).notebook.name
        nb = nbformat.read(course_dir / "release" / assignment / name, as_version=4)
        if impl is not None:
            cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution"))
            cell.source = Path(impl).read_text()
        target = course_dir / "submitted" / student / assignment / name
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, target)
