"""Published grader quality: what every exercise's graders are proven to do, measured.

Per exercise: the number of checks and points; the buggy variants (``tests/variants/<id>/bug_*.py``)
the graders catch; the alternative-correct implementations (``alt_*.py``) they accept; the best
score any do-nothing submission (:mod:`mlkata.nulls`) gets; and the production libraries the
reference is compared with (``tests/test_twins_<area>_<name>.py``), with their versions.

Measuring grades every variant and every null submission (seconds per exercise), so the figures
are measured once -- ``mlkata quality --write`` -- and kept in ``docs/quality.json`` with a digest
of everything they depend on (reference, visible checks, grader, variants, twin test).
``docs/quality.md`` is rendered from that file by ``mlkata build`` without grading anything, and
``mlkata build --check`` reports an exercise whose figures are missing or were measured on other
files.  CI then holds the numbers: ``tests/test_graders.py`` fails when a variant is missed or an
alternative rejected, ``tests/test_null_submissions.py`` when a null scores, and
``tests/test_quality.py`` when a published figure differs from what those tests require.
"""
from __future__ import annotations

import ast
import hashlib
import importlib.metadata
import json
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from . import catalog
from .catalog import Exercise

DATA = Path("docs") / "quality.json"
PAGE = Path("docs") / "quality.md"
NOT_TWINS = {"pytest", "mlkata", "helpers", "numpy", "conftest"}    # helpers of the twin tests, not twins


# --------------------------------------------------------------------------------------------
# What the figures depend on
# --------------------------------------------------------------------------------------------

def variant_files(ex: Exercise, kind: str) -> list[Path]:
    return sorted((ex.root / "tests" / "variants" / ex.id).glob(f"{kind}_*.py"))


def twin_file(ex: Exercise) -> Path:
    return ex.root / "tests" / f"test_twins_{ex.area}_{ex.name}.py"


def digest(ex: Exercise) -> str:
    """A hash of every file the figures of ``ex`` depend on."""
    h = hashlib.sha256()
    files = [ex.reference_source, ex.visible_checks, ex.grader, twin_file(ex)]
    files += variant_files(ex, "bug") + variant_files(ex, "alt")
    for path in files:
        h.update(str(path.relative_to(ex.root)).encode() + b"\0")
        h.update(path.read_bytes() if path.exists() else b"<missing>")
        h.update(b"\0")
    return h.hexdigest()[:16]


def twins(ex: Exercise) -> list[dict]:
    """The libraries the twin test imports (its helpers aside), with their installed versions.
    Without a twin test the graders compare with the library themselves (torch, at grading
    time): then the libraries the exercise's ``oracles`` name, marked ``"graders"``."""
    path = twin_file(ex)
    if not path.exists():
        names = {o.split(".")[0].split("(")[0].strip() for o in ex.oracles}
        return [dict(t, where="graders") for t in _versions(names)]
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "importorskip" and node.args \
                and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
            names.add(node.args[0].value.split(".")[0])
    return [dict(t, where="twin test") for t in _versions(names)]


def _versions(names: set[str]) -> list[dict]:
    names = {n for n in names if n.isidentifier()} - NOT_TWINS - set(sys.stdlib_module_names)
    found = []
    distributions = importlib.metadata.packages_distributions()
    for name in names:
        for dist in distributions.get(name, [name]):
            try:
                version = importlib.metadata.version(dist)
            except importlib.metadata.PackageNotFoundError:
                continue                         # an oracle named in words ("an independent loop"), not a library
            found.append({"library": dist, "version": version})
    # torch last: it is the twin of the layers, but mostly the base of every other comparison
    return sorted({(t["library"], t["version"]): t for t in found}.values(),
                  key=lambda t: (t["library"] == "torch", t["library"]))


# --------------------------------------------------------------------------------------------
# Measuring
# --------------------------------------------------------------------------------------------

def measure(ex: Exercise, *, isolate: bool = False, nulls_too: bool = True) -> dict:
    """Grade the variants (and the null submissions) of ``ex``; the figures of one exercise."""
    from . import grading, nulls
    checks = grading.checks_for(ex)
    caught, accepted = 0, 0
    missed, rejected = [], []
    for path in variant_files(ex, "bug"):
        result = _grade_file(ex, path, isolate)
        if result.score < result.max_score:
            caught += 1
        else:
            missed.append(path.stem)
    for path in variant_files(ex, "alt"):
        result = _grade_file(ex, path, isolate)
        if result.score == result.max_score:
            accepted += 1
        else:
            rejected.append(path.stem)
    worst, scoring = 0.0, []
    if nulls_too:
        for strategy, keep_init in nulls.FAMILIES:
            result = nulls.grade_source(ex, nulls.null_source(ex, strategy, keep_init), isolate=isolate)
            if result.score > 0:
                scoring.append(strategy)
            worst = max(worst, result.score)
    return {
        "digest": digest(ex),
        "checks": len(checks), "hidden_checks": sum(1 for _, hidden in checks if hidden),
        "points": sum(c.points for c, _ in checks),
        "bugs_caught": caught, "bugs": caught + len(missed), "missed": missed,
        "alts_accepted": accepted, "alts": accepted + len(rejected), "rejected": rejected,
        "null_best": worst, "null_families": len(nulls.FAMILIES) if nulls_too else 0, "null_scoring": scoring,
        "twins": twins(ex),
    }


def _grade_file(ex: Exercise, path: Path, isolate: bool):
    from . import grading
    with tempfile.TemporaryDirectory(prefix="mlkata-quality-") as tmp:
        target = ex.submission_file(tmp)
        target.parent.mkdir(parents=True)
        target.write_text(path.read_text())
        return grading.grade_exercise(ex, tmp, isolate=isolate)


# --------------------------------------------------------------------------------------------
# The data file and the page
# --------------------------------------------------------------------------------------------

def load(root: Path = catalog.ROOT) -> dict:
    path = root / DATA
    return json.loads(path.read_text()) if path.exists() else {}


def save(figures: dict, root: Path = catalog.ROOT) -> None:
    """Merge ``figures`` (id -> figures) into the data file and rewrite the page."""
    data = load(root)
    data.update(figures)
    order = list(catalog.load(root))
    data = {k: data[k] for k in sorted(data, key=lambda k: (order.index(k) if k in order else len(order), k))}
    (root / DATA).write_text(json.dumps(data, indent=1, sort_keys=False) + "\n")
    from . import build
    build.write_generated(root / PAGE, markdown(root), root)


@dataclass(frozen=True)
class State:
    figures: dict | None
    fresh: bool


def states(root: Path = catalog.ROOT) -> dict[str, State]:
    data = load(root)
    return {ex_id: State(data.get(ex_id), ex_id in data and data[ex_id]["digest"] == digest(ex))
            for ex_id, ex in catalog.load(root).items()}


def problems(root: Path = catalog.ROOT) -> list[str]:
    """Exercises whose published figures are missing or measured on other files (``build --check``)."""
    out = []
    for ex_id, state in states(root).items():
        if state.figures is None:
            out.append(f"quality figures missing: {ex_id} (mlkata quality --write {ex_id})")
        elif not state.fresh:
            out.append(f"quality figures stale: {ex_id} -- its reference, checks, variants or twin test changed "
                       f"since they were measured (mlkata quality --write {ex_id})")
    return out


def _ratio(a, b) -> str:
    return f"{a}/{b}"


def markdown(root: Path = catalog.ROOT) -> str:
    """docs/quality.md, from the data file alone (no grading)."""
    exercises = catalog.load(root)
    st = states(root)
    lines = [
        "# Grader quality",
        "",
        "What each exercise's graders are proven to do, measured by `mlkata quality --write` (generated by",
        "`mlkata build` from `docs/quality.json`; do not edit).",
        "",
        "- **checks / points**: visible and hidden checks of the graded run, and the points they carry.",
        "- **bugs caught**: realistic wrong implementations (`tests/variants/<id>/bug_*.py`) that lose points.",
        "- **alternatives accepted**: correct implementations written differently (`alt_*.py`) that get full marks.",
        "- **null**: the best score of the do-nothing submissions (`mlkata/nulls.py`: every function returns",
        "  None, its first argument, zeros like it, or zeros / ones / a constant / random values of the right",
        "  shape; modules keep their `__init__`) -- it must be 0.",
        "- **twins**: the production libraries `tests/test_twins_<area>_<name>.py` compares the reference and",
        "  the graders' oracle with, at the versions measured (\"in the graders\": no twin test, the graders",
        "  compare with the library themselves at grading time).",
        "",
    ]
    totals = {"checks": 0, "points": 0.0, "bugs_caught": 0, "bugs": 0, "alts_accepted": 0, "alts": 0}
    measured = 0
    area = None
    for ex_id, ex in exercises.items():
        if ex.area != area:
            area = ex.area
            lines += ["", f"## {catalog.AREAS[area]}", "",
                      "| exercise | checks (hidden) | points | bugs caught | alternatives accepted | null | twins |",
                      "| --- | --- | --- | --- | --- | --- | --- |"]
        state = st[ex_id]
        f = state.figures
        if f is None:
            lines.append(f"| `{ex_id}` | not measured yet | | | | | |")
            continue
        measured += 1
        for k in totals:
            totals[k] += f[k]
        twin = ", ".join(f"{t['library']} {t['version']}" for t in f["twins"]) or "--"
        if f["twins"] and f["twins"][0].get("where") == "graders":
            twin += " (in the graders)"
        stale = "" if state.fresh else " (stale: files changed since measured)"
        null = f"{f['null_best']:g}" + (f" ({', '.join(f['null_scoring'])})" if f["null_scoring"] else "")
        lines.append(f"| `{ex_id}`{stale} | {f['checks']} ({f['hidden_checks']}) | {f['points']:g} | "
                     f"{_ratio(f['bugs_caught'], f['bugs'])} | {_ratio(f['alts_accepted'], f['alts'])} | "
                     f"{null} | {twin} |")
    lines += ["", "## All exercises", "",
              f"{measured} of {len(exercises)} exercises measured: {totals['checks']} checks worth "
              f"{totals['points']:g} points; {totals['bugs_caught']} of {totals['bugs']} buggy variants caught; "
              f"{totals['alts_accepted']} of {totals['alts']} alternative implementations accepted.", ""]
    return "\n".join(lines)
