"""The student toolkit: `mlkata student-wheel` builds a wheel that holds no answer, and a release
notebook runs its visible checks with nothing else installed -- a fresh venv with torch, the
wheel (installed by the notebook's own setup cell from beside it) and a kernel."""
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

from mlkata import build, catalog, student
from helpers import ROOT, VARIANTS

EXERCISE = "nlp/sampling"


def _meaningful(line: str) -> bool:
    return len(line) >= 12 and not line.startswith(("#", '"""', "import ", "from "))


def secret_lines() -> dict[str, str]:
    """Every solution line of every reference and every line of every grader, less lines that are
    public anyway: in a stub, in the visible checks, or in the toolkit's own modules (generic lines
    such as ``return False``; the wheel's modules are checked to be exactly the toolkit's)."""
    secrets = {}
    public = {line.strip() for p in (ROOT / "mlkata").glob("*.py") for line in p.read_text().splitlines()}
    for ex in catalog.load().values():
        lines = ex.reference_source.read_text().splitlines()
        for r in build.solution_regions(lines, str(ex.reference_source)):
            for line in lines[r.start + 1:r.end]:
                secrets.setdefault(line.strip(), f"reference {ex.id}")
        for line in ex.grader.read_text().splitlines():
            secrets.setdefault(line.strip(), f"grader {ex.id}")
        for path in (ex.stub, ex.visible_checks):
            public |= {line.strip() for line in (path.read_text() if path.exists() else "").splitlines()}
    return {line: where for line, where in secrets.items() if _meaningful(line) and line not in public}


def test_the_wheel_holds_the_toolkit_and_the_visible_checks_only(tmp_path):
    wheel = student.build_wheel(tmp_path)
    assert student.build_wheel(tmp_path / "again").read_bytes() == wheel.read_bytes()     # reproducible
    secrets = secret_lines()
    assert len(secrets) > 1000           # the scan has something to find
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        assert not [n for n in names if n.endswith("/exercise.py") or "graders/" in n or "solutions/" in n
                    or n.endswith("meta.toml")]
        leaks = []
        for name in names:
            lines = {line.strip() for line in z.read(name).decode(errors="replace").splitlines()}
            leaks += [f"{name}: {secrets[line]}: {line}" for line in lines & secrets.keys()]
        assert leaks == []
        index = json.loads(z.read("mlkata/_student/index.json"))
        assert sorted(index["exercises"]) == sorted(catalog.load())
        modules = {n for n in names if n.startswith("mlkata/") and "/_student/" not in n}
        assert modules == {f"mlkata/{p.name}" for p in (ROOT / "mlkata").glob("*.py")}
        assert all(z.read(n) == (ROOT / n).read_bytes() for n in modules if n != "mlkata/__main__.py")
        data = {n for n in names if "/_student/" in n}
        assert data == {"mlkata/_student/index.json"} | {f"mlkata/_student/catalog/{e}/visible.py"
                                                          for e in catalog.load()}


def test_a_release_notebook_runs_its_visible_checks_with_only_the_student_wheel(tmp_path, monkeypatch):
    pytest.importorskip("nbclient")
    pytest.importorskip("nbgrader")
    from nbclient import NotebookClient
    from course_helpers import make_course
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    # torch from the local store (the pin keeps pip off the multi-GB CUDA build); --no-compile: the
    # kernel compiles only what it imports
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-compile", "torch==2.13.0", "numpy",
                    "ipykernel"], check=True, timeout=900)
    kernels = tmp_path / "jupyter" / "kernels" / "student"
    kernels.mkdir(parents=True)
    (kernels / "kernel.json").write_text(json.dumps({
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "student venv", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)

    work = tmp_path / "work"            # what a student has: the notebook and the wheel beside it
    student.build_wheel(work)
    folder = make_course(tmp_path / "course", "core", [EXERCISE])
    name = catalog.get(EXERCISE).name
    nb = nbformat.read(folder / "release" / "core" / f"{name}.ipynb", as_version=4)
    solution = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution"))
    solution.source = (VARIANTS / EXERCISE / "bug_topk_strict_greater.py").read_text()   # top-k wrong, top-p right
    nb.cells.append(nbformat.v4.new_code_cell(
        "import mlkata, mlkata.student, importlib.util\n"
        "print(mlkata.__file__, mlkata.student.bundled(), importlib.util.find_spec('graders'))"))
    NotebookClient(nb, timeout=600, kernel_name="student", resources={"metadata": {"path": str(work)}}).execute()

    outputs = {c.metadata.nbgrader.grade_id: "".join(o.get("text", "") for o in c.outputs)
               for c in nb.cells if "-v-" in c.metadata.get("nbgrader", {}).get("grade_id", "")}
    verdicts = {gid: text.split(" ", 1)[0] for gid, text in outputs.items()}
    assert verdicts and set(verdicts.values()) == {"PASS", "FAIL"}, outputs
    assert all(v == "FAIL" for gid, v in verdicts.items() if "top-k" in gid), outputs
    assert all(v == "PASS" for gid, v in verdicts.items() if "top-p" in gid), outputs
    where = "".join(o.get("text", "") for o in nb.cells[-1].outputs).split()
    assert where[0].startswith(str(venv)) and where[1:] == ["True", "None"], where
    assert str(ROOT) not in "".join(outputs.values())
    # the wheel's own command gives the hints the messages point to ("stuck? mlkata hint ID")
    hint = subprocess.run([str(venv / "bin" / "mlkata"), "hint", EXERCISE], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path)
    assert hint.returncode == 0 and hint.stdout.startswith("hint 1/"), hint.stdout + hint.stderr
