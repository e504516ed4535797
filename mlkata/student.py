"""The student toolkit: what a course hands its students -- the toolkit and the visible checks,
never an answer.

    mlkata student-wheel --out dist/    ->  dist/mlkata_student-<version>-py3-none-any.whl

The wheel holds the ``mlkata`` package's own modules (code that grades, not code that answers)
and ``mlkata/_student/``: ``index.json`` (each exercise's public record: title, difficulty,
minutes, hints, forbidden calls) and ``catalog/<area>/<name>/visible.py`` (the visible checks,
which every release notebook shows anyway).  No reference (``catalog/*/exercise.py``,
``solutions/``), no hidden grader (``graders/``), no other catalog source.  With it installed a
release notebook runs its visible checks (:mod:`mlkata.notebooks` finds the bundled index), and
``mlkata hint ID`` works; hidden checks run only at autograde, on the instructor's full install.

The wheel is written directly (it is a zip with a ``.dist-info`` folder): no build backend, no
network, and the same bytes for the same catalog.
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import json
import zipfile
from functools import cache
from pathlib import Path

from . import __version__

PACKAGE = Path(__file__).resolve().parent
BUNDLE = PACKAGE / "_student"
DIST_NAME = "mlkata_student"
# The notebook flow imports checks, engine, wire, catalog and notebooks: torch and numpy are all
# it needs.  (The instructor's install adds nbgrader, the sandbox's tools and the rest.)
REQUIRES = ("torch>=2.4,<2.15", "numpy>=1.26")
_EPOCH = (1980, 1, 1, 0, 0, 0)     # fixed timestamps: the same catalog gives the same wheel


# --------------------------------------------------------------------------------------------
# Inside the student's install: the bundled public index
# --------------------------------------------------------------------------------------------

def bundled() -> bool:
    """True in the student toolkit (the wheel), False in the course repository."""
    return (BUNDLE / "index.json").exists()


@cache
def _index() -> dict:
    return json.loads((BUNDLE / "index.json").read_text())


def exercise(exercise_id: str):
    """The public record of an exercise, as a :class:`mlkata.catalog.Exercise` rooted in the bundle
    (so ``ex.visible_checks`` is the bundled ``visible.py``)."""
    from .catalog import CatalogError, Exercise
    record = _index()["exercises"].get(exercise_id)
    if record is None:
        raise CatalogError(f"unknown exercise {exercise_id!r}: this student toolkit has "
                           f"{len(_index()['exercises'])} exercises (mlkata list)")
    return Exercise(id=exercise_id, title=record["title"], difficulty=record["difficulty"],
                    minutes=record["minutes"], hints=tuple(record["hints"]), seed=(),
                    forbidden=tuple(record["forbidden"]), assignment=record["assignment"], root=BUNDLE)


def main(argv: list[str] | None = None) -> int:
    """The student toolkit's ``mlkata`` command: ``list`` and ``hint`` (grading is the course's)."""
    p = argparse.ArgumentParser(prog="mlkata", description="mlkata student toolkit: exercises and hints.")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="the exercises of this toolkit")
    h = sub.add_parser("hint", help="progressive hints for an exercise")
    h.add_argument("id")
    h.add_argument("--level", type=int, default=1)
    args = p.parse_args(argv)
    from .catalog import CatalogError
    if args.command == "list":
        for ex_id, r in _index()["exercises"].items():
            print(f"{ex_id:40s} {r['difficulty']:6s} {r['minutes']:3d} min  {r['title']}")
        return 0
    try:
        ex = exercise(args.id)
    except CatalogError as e:
        print(f"error: {e}")
        return 2
    level = max(1, min(args.level, len(ex.hints)))
    for i, hint in enumerate(ex.hints[:level], 1):
        print(f"hint {i}/{len(ex.hints)} {hint}")
    if level < len(ex.hints):
        print(f"more: mlkata hint {ex.id} --level {level + 1}")
    return 0


# --------------------------------------------------------------------------------------------
# In the course repository: building the wheel
# --------------------------------------------------------------------------------------------

def public_index(exercises) -> dict:
    """Each exercise's public record (what a release notebook or ``mlkata hint`` shows anyway)."""
    return {"version": __version__, "exercises": {
        ex.id: {"title": ex.title, "difficulty": ex.difficulty, "minutes": ex.minutes, "hints": list(ex.hints),
                "forbidden": list(ex.forbidden), "assignment": ex.assignment} for ex in exercises}}


def wheel_files(root: Path | None = None) -> dict[str, bytes]:
    """Archive path -> bytes of everything the wheel installs (its .dist-info aside)."""
    from . import catalog
    exercises = list(catalog.load(root or catalog.ROOT).values())
    files = {f"mlkata/{p.name}": p.read_bytes() for p in sorted(PACKAGE.glob("*.py"))}
    # `python -m mlkata` is the student command there (the course's CLI needs the course's files)
    files["mlkata/__main__.py"] = b"from mlkata.student import main\n\nraise SystemExit(main())\n"
    files["mlkata/_student/index.json"] = (json.dumps(public_index(exercises), indent=1) + "\n").encode()
    for ex in exercises:
        files[f"mlkata/_student/catalog/{ex.id}/visible.py"] = ex.visible_checks.read_bytes()
    return files


def _metadata() -> str:
    lines = ["Metadata-Version: 2.1", f"Name: {DIST_NAME}", f"Version: {__version__}",
             "Summary: mlkata student toolkit: the visible checks of the course's exercises (no answers)",
             "Requires-Python: >=3.11", *(f"Requires-Dist: {r}" for r in REQUIRES)]
    return "\n".join(lines) + "\n"


def _record_line(path: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}"


def build_wheel(out: Path, root: Path | None = None) -> Path:
    """Write ``out/mlkata_student-<version>-py3-none-any.whl``; returns its path."""
    files = wheel_files(root)
    info = f"{DIST_NAME}-{__version__}.dist-info"
    files[f"{info}/METADATA"] = _metadata().encode()
    files[f"{info}/WHEEL"] = (f"Wheel-Version: 1.0\nGenerator: mlkata {__version__}\nRoot-Is-Purelib: true\n"
                              "Tag: py3-none-any\n").encode()
    files[f"{info}/entry_points.txt"] = b"[console_scripts]\nmlkata = mlkata.student:main\n"
    record = "\n".join(_record_line(p, d) for p, d in files.items()) + f"\n{info}/RECORD,,\n"
    files[f"{info}/RECORD"] = record.encode()
    out.mkdir(parents=True, exist_ok=True)
    target = out / f"{DIST_NAME}-{__version__}-py3-none-any.whl"
    tmp = target.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for path, data in files.items():
            entry = zipfile.ZipInfo(path, date_time=_EPOCH)
            entry.external_attr = 0o644 << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(entry, data)
    tmp.replace(target)
    return target
