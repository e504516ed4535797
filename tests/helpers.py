"""Shared helpers of the project's tests: grade one file as a one-exercise submission."""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from mlkata import catalog, grading

ROOT = catalog.ROOT
VARIANTS = ROOT / "tests" / "variants"


def grade_file(exercise_id: str, path: Path, **options) -> grading.ExerciseResult:
    """Grade ``path`` as the submission of ``exercise_id`` (copied into a temp folder)."""
    ex = catalog.get(exercise_id)
    with tempfile.TemporaryDirectory() as tmp:
        target = ex.submission_file(tmp)
        target.parent.mkdir(parents=True)
        shutil.copyfile(path, target)
        return grading.grade_exercise(ex, tmp, **options)


def variants(kind: str) -> list[tuple[str, Path]]:
    """(exercise id, file) for every ``bug_*.py`` or ``alt_*.py`` under tests/variants."""
    found = []
    for ex_id in catalog.load():
        folder = VARIANTS / ex_id
        found += [(ex_id, p) for p in sorted(folder.glob(f"{kind}_*.py"))]
    return found


def failures(result: grading.ExerciseResult) -> str:
    return "\n".join(f"- {r.name}: {r.message}" for r in result.results if not r.passed)
