"""``mlkata build``: generate every derived file from the one authored source per exercise.

Each step is a small pure function ``Exercise -> (path, text)``; :func:`plan` lists them in
order, :func:`write` writes what changed, :func:`stale` is ``--check``.  A manifest of the
hashes of what build last wrote tells a stale generated file (rewrite it) from one a person
edited (refuse, unless ``--force``: a learner's work in a stub is never silently lost).
"""
from __future__ import annotations

import ast
import fcntl
import hashlib
import json
import re
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from . import catalog
from .catalog import Exercise

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
# Inside a region, a GIVEN marker ends the solution's lines and starts the code the stub shows
# instead of ``raise NotImplementedError``, written as comments ("# " after the region's indent) so
# that the reference still runs: a debugging exercise hands the learner broken code this way.
GIVEN = "### GIVEN CODE"
MANIFEST = ".mlkata-build.json"


class BuildError(Exception):
    """An authored source is malformed (unbalanced markers, a syntax error, ...)."""


@dataclass(frozen=True)
class Region:
    start: int          # line index of the BEGIN marker
    end: int            # line index of the END marker
    indent: str
    function: str       # the enclosing def, for the stub's message
    given: int | None = None    # line index of the GIVEN marker, when the stub shows given code

    @property
    def solution_end(self) -> int:
        """Line index just after the solution's last line."""
        return self.end if self.given is None else self.given

    def given_code(self, lines: list[str]) -> list[str]:
        """The stub's code for this region: the commented lines after GIVEN, uncommented."""
        out = []
        for line in lines[self.given + 1:self.end]:
            body = line[len(self.indent):]
            out.append("" if not line.strip() else self.indent + body[2:] if body.startswith("# ") else
                       self.indent + body[1:])
        return out


def solution_regions(lines: list[str], origin: str) -> list[Region]:
    """The solution regions of a reference, validated (balanced, not nested, not empty)."""
    regions, open_at, given_at = [], None, None
    for i, line in enumerate(lines):
        marker = line.strip()
        if marker == BEGIN:
            if open_at is not None:
                raise BuildError(f"{origin}:{i + 1}: nested {BEGIN}")
            open_at = i
        elif marker == GIVEN:
            if open_at is None or given_at is not None:
                raise BuildError(f"{origin}:{i + 1}: {GIVEN} " + ("outside a solution region" if open_at is None
                                                                 else "twice in one region"))
            given_at = i
        elif given_at is not None and marker != END and marker and not marker.startswith("#"):
            raise BuildError(f"{origin}:{i + 1}: the code after {GIVEN} must be commented out ('# ' + code), "
                             "so that the reference runs without it")
        elif marker == END:
            if open_at is None:
                raise BuildError(f"{origin}:{i + 1}: {END} without {BEGIN}")
            if i == open_at + 1 or given_at == i - 1:
                raise BuildError(f"{origin}:{i + 1}: empty solution region" if given_at is None else
                                 f"{origin}:{i + 1}: no given code after {GIVEN}")
            indent = lines[open_at][: len(lines[open_at]) - len(lines[open_at].lstrip())]
            if not indent:
                raise BuildError(f"{origin}:{open_at + 1}: a solution region at module level would make "
                                 "the stub raise on import; put it inside a function")
            regions.append(Region(open_at, i, indent, _enclosing_def(lines, open_at, indent), given_at))
            open_at, given_at = None, None
    if open_at is not None:
        raise BuildError(f"{origin}:{open_at + 1}: {BEGIN} is never closed")
    if not regions:
        raise BuildError(f"{origin}: no solution region")
    return regions


def _enclosing_def(lines: list[str], at: int, indent: str) -> str:
    for line in reversed(lines[:at]):
        m = re.match(r"(\s*)(?:async\s+)?def\s+(\w+)", line)
        if m and len(m.group(1)) < len(indent):
            return m.group(2)
    return "this part"


def _read_reference(ex: Exercise) -> list[str]:
    path = ex.reference_source
    if not path.exists():
        raise BuildError(f"{ex.id}: missing {path.relative_to(ex.root)}")
    text = path.read_text()
    try:
        ast.parse(text)
    except SyntaxError as e:
        raise BuildError(f"{path.relative_to(ex.root)}:{e.lineno}: {e.msg}") from None
    return text.splitlines()


def _rel(ex: Exercise, path: Path) -> str:
    return str(path.relative_to(ex.root))


# --------------------------------------------------------------------------------------------
# The steps
# --------------------------------------------------------------------------------------------

# Opened as a notebook with jupytext (JupyterLab: Open With > Jupytext Notebook), a stub names its
# kernel, so no kernel dialog comes first.
JUPYTEXT_HEADER = ("# ---", "# jupyter:", "#   kernelspec:", "#     display_name: Python 3 (ipykernel)",
                   "#     language: python", "#     name: python3", "# ---", "")


def stub(ex: Exercise) -> tuple[Path, str]:
    """The learner's file: solution regions become ``raise NotImplementedError`` (or, where a
    region has a GIVEN part, that given code)."""
    lines = _read_reference(ex)
    out, last = [], 0
    regions = solution_regions(lines, _rel(ex, ex.reference_source))
    for r in regions:
        out += lines[last:r.start]
        if r.given is not None:
            out += r.given_code(lines)
        else:
            out += [f"{r.indent}# YOUR CODE HERE",
                    f'{r.indent}raise NotImplementedError("{r.function}: fill in this part")']
        last = r.end + 1
    out += lines[last:]
    try:
        ast.parse("\n".join(out))
    except SyntaxError as e:
        raise BuildError(f"{_rel(ex, ex.reference_source)}: the stub its GIVEN code makes does not parse "
                         f"(stub line {e.lineno}: {e.msg})") from None
    todo = [r for r in regions if r.given is None]
    task = ("Fill in the parts marked YOUR CODE HERE" if len(todo) == len(regions) else
            "This code runs but has bugs: find and fix them (the docstrings say what it must do)" if not todo else
            "Fill in the parts marked YOUR CODE HERE and fix the bugs in the code given")
    # Titles never go on the first two lines: Python reads "coding: x" there as an encoding.
    header = [
        *JUPYTEXT_HEADER,
        f"# mlkata exercise {ex.id}",
        "#",
        f"# {ex.title}",
        f"# {task}, then check your work with",
        f"#     pytest {_rel(ex, ex.visible_test)}      (or: mlkata check {ex.id})",
        f"# Stuck? mlkata hint {ex.id}",
        f"# (Generated by `mlkata build` from {_rel(ex, ex.reference_source)}.)",
    ]
    return ex.stub, "\n".join(header + out) + "\n"


def solution(ex: Exercise) -> tuple[Path, str]:
    """The clean reference: the authored source without its markers."""
    body = without_markers(_read_reference(ex), _rel(ex, ex.reference_source))
    header = [f"# Reference solution of mlkata exercise {ex.id}",
              f"# (Generated by `mlkata build` from {_rel(ex, ex.reference_source)}; edit that file, not this one.)",
              f"# {ex.title}"]
    return ex.solution, "\n".join(header + body) + "\n"


def without_markers(lines: list[str], origin: str) -> list[str]:
    """The reference's lines without the region markers and without any GIVEN code."""
    drop = set()
    for r in solution_regions(lines, origin):
        drop |= {r.start, r.end} | set(range(r.solution_end, r.end))
    return [line for i, line in enumerate(lines) if i not in drop]


def gives_code(ex: Exercise) -> bool:
    """Whether the stub shows given code (a debugging exercise) in place of some solution."""
    lines = _read_reference(ex)
    return any(r.given is not None for r in solution_regions(lines, _rel(ex, ex.reference_source)))


def notebook_code(lines: list[str], origin: str) -> tuple[str, bool]:
    """The solution cell's code: regions keep their markers (nbgrader clears them), GIVEN regions
    become their given code.  Returns (code, whether any region is left for nbgrader)."""
    out, last, left = [], 0, False
    for r in solution_regions(lines, origin):
        out += lines[last:r.start]
        if r.given is not None:
            out += r.given_code(lines)
        else:
            out += lines[r.start:r.end + 1]
            left = True
        last = r.end + 1
    out += lines[last:]
    return "\n".join(out), left


def _top_level(text: str) -> dict[str, str]:
    """Top-level names a module binds (def, class, assignment) -> the source that binds them."""
    tree = ast.parse(text)
    out = {}
    for node in tree.body:
        targets = []
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            targets = [node.name]
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            for t in (node.targets if isinstance(node, ast.Assign) else [node.target]):
                targets += [t.id] if isinstance(t, ast.Name) else []
        for name in targets:
            out[name] = ast.get_source_segment(text, node) or ""
    return out


def _check_no_clash(ex: Exercise) -> None:
    """In a notebook the visible checks run in the learner's namespace, after the solution cell:
    a probe or check named like a learner's function would silently replace it."""
    mine = _top_level(ex.reference_source.read_text())
    theirs = _top_level(ex.visible_checks.read_text())
    clash = sorted(n for n in set(mine) & set(theirs) if mine[n] != theirs[n])
    if clash:
        raise BuildError(f"{_rel(ex, ex.visible_checks)} defines {', '.join(clash)}, which the exercise "
                         "defines too; rename them in visible.py (in a notebook they would replace the learner's)")


def visible_test(ex: Exercise) -> tuple[Path, str]:
    """The visible checks, runnable by pytest against the stub beside them."""
    _check_no_clash(ex)
    from .grading import check_module
    from .checks import checks_of
    if not ex.visible_checks.exists():
        raise BuildError(f"{ex.id}: missing {_rel(ex, ex.visible_checks)}")
    body = ex.visible_checks.read_text().rstrip("\n")
    hidden = checks_of(check_module("hidden", ex))
    header = [f"# Visible checks of mlkata exercise {ex.id}",
              f"# (Generated by `mlkata build` from {_rel(ex, ex.visible_checks)}; edit that file, not this one.)",
              f"# {ex.title}",
              "# Each check below names a rule of the contract in the exercise's docstring.", ""]
    glue = ["", "", "# --- generated: run the checks above with pytest ---",
            "from mlkata.pytest_glue import visible_test as _visible_test  # noqa: E402",
            "",
            f'test_visible = _visible_test(globals(), "{ex.id}", hidden_checks={len(hidden)},',
            f"                             hidden_points={sum(c.points for c in hidden):g}, "
            f"forbidden={list(ex.forbidden)!r})"]
    return ex.visible_test, "\n".join(header) + body + "\n".join(glue) + "\n"


def notebook(ex: Exercise) -> tuple[Path, str]:
    """The nbgrader source notebook (see :mod:`mlkata.notebooks`)."""
    from . import notebooks
    return ex.notebook, notebooks.source_notebook(ex, "\n".join(_read_reference(ex)))


STEPS = (stub, visible_test, solution, notebook)


def _global_files(root: Path) -> list[tuple[Path, str]]:
    from . import coverage, quality
    conftest = ('"""Generated by `mlkata build`: one line per exercise at the end of `pytest exercises/`."""\n'
                "from mlkata.pytest_glue import pytest_terminal_summary  # noqa: F401\n")
    return [(root / "exercises" / "conftest.py", conftest),
            (root / "docs" / "coverage.md", coverage.markdown(coverage.compute(root))),
            # rendered from the measured figures (docs/quality.json), never by grading here
            (root / quality.PAGE, quality.markdown(root))]


def plan(root: Path = catalog.ROOT, only: list[str] | None = None) -> list[tuple[Path, str]]:
    """Every generated file with the content it should have (of the ``only`` exercises, if given)."""
    files = []
    for ex in catalog.select(only, root) if only else catalog.load(root).values():
        files += [step(ex) for step in STEPS]
    return files + _global_files(root)


def _known_paths(root: Path) -> set[str]:
    """Paths build generates for every exercise the index lists -- written yet or not, so that a
    build never deletes the outputs of an exercise someone is in the middle of editing."""
    paths = {p for ex in catalog.listed(root) for p in (ex.stub, ex.visible_test, ex.solution, ex.notebook)}
    paths |= {p for p, _ in _global_files(root)}
    return {str(p.relative_to(root)) for p in paths}


# --------------------------------------------------------------------------------------------
# Writing and checking
# --------------------------------------------------------------------------------------------

def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _manifest(root: Path) -> dict[str, str]:
    path = root / MANIFEST
    return json.loads(path.read_text()) if path.exists() else {}


def stale(root: Path = catalog.ROOT) -> list[str]:
    """Problems ``--check`` reports: generated files missing, out of date, edited, or orphaned."""
    from . import course
    manifest = _manifest(root)
    problems = catalog.problems(root)
    wanted = plan(root)
    for path, text in wanted:
        rel = str(path.relative_to(root))
        if not path.exists():
            problems.append(f"missing: {rel}")
        elif path.read_text() != text:
            edited = manifest.get(rel) != _sha(path.read_text())
            problems.append(f"{'edited by hand' if edited else 'stale'}: {rel}")
    known = _known_paths(root)
    for rel in manifest:
        if rel not in known and (root / rel).exists():
            problems.append(f"orphaned (no longer generated): {rel}")
    from . import quality
    return problems + quality.problems(root) + course.release_problems(root)


def write(root: Path = catalog.ROOT, force: bool = False, only: list[str] | None = None
          ) -> tuple[list[str], list[str]]:
    """Write what changed; returns (written, kept-because-edited)."""
    with _locked(root):
        return _write(root, force, only)


def write_generated(path: Path, text: str, root: Path = catalog.ROOT) -> None:
    """Write one generated file outside a build and record it in the manifest, as a build would
    (``mlkata quality --write`` renders docs/quality.md this way)."""
    with _locked(root):
        manifest = _manifest(root)
        path.write_text(text)
        manifest[str(path.relative_to(root))] = _sha(text)
        (root / MANIFEST).write_text(json.dumps(dict(sorted(manifest.items())), indent=1) + "\n")


@contextmanager
def _locked(root: Path):
    """Builds of different exercises may run at once: the manifest is read and written under a lock."""
    with open(root / f"{MANIFEST}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _write(root: Path, force: bool, only: list[str] | None) -> tuple[list[str], list[str]]:
    manifest = _manifest(root)
    written, kept = [], []
    wanted = plan(root, only)
    for path, text in wanted:
        rel = str(path.relative_to(root))
        if path.exists():
            current = path.read_text()
            if current == text:
                manifest[rel] = _sha(text)
                continue
            if not force and manifest.get(rel) != _sha(current):
                kept.append(rel)
                continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        manifest[rel] = _sha(text)
        written.append(rel)
    known = _known_paths(root)
    for rel in [r for r in manifest if r not in known]:
        if (root / rel).exists() and manifest[rel] == _sha((root / rel).read_text()):
            (root / rel).unlink()
            written.append(f"removed {rel}")
        manifest.pop(rel)
    (root / MANIFEST).write_text(json.dumps(dict(sorted(manifest.items())), indent=1) + "\n")
    return written, kept
