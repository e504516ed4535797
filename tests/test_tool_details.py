"""Small things an instructor or a learner meets on the first day: ids are never cut, an
interrupted class run says how to resume, results are readable by the course's staff, a release
says that it scanned for leaks, a stub opened with jupytext names its kernel."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mlkata import batch, build, catalog, cli, course
from helpers import ROOT

BIN = Path(sys.executable).parent


def test_list_never_cuts_an_id_at_80_columns():
    longest = max(catalog.load(), key=len)
    out = subprocess.run([str(BIN / "mlkata"), "list", "--exercise", longest, "--exercise", next(iter(catalog.load()))],
                         cwd=ROOT, capture_output=True, text=True, timeout=300, env={**os.environ, "COLUMNS": "80"})
    assert out.returncode == 0, out.stderr
    assert max(len(line) for line in out.stdout.splitlines()) <= 80, out.stdout
    assert any(longest in line for line in out.stdout.splitlines()), out.stdout


def test_interrupted_grade_batch_says_what_was_kept_and_how_to_resume(tmp_path, monkeypatch, capsys):
    out = tmp_path / "results"

    def interrupted(submissions, out_dir, *, progress, **_):
        batch.write_atomic(Path(out_dir) / "alice.json", "{}")
        progress("alice", 1, 3)
        raise KeyboardInterrupt

    monkeypatch.setattr(batch, "grade_batch", interrupted)
    args = cli.parser().parse_args(["grade-batch", str(tmp_path), "--out", str(out)])
    assert cli.cmd_grade_batch(args) == 130
    said = " ".join(capsys.readouterr().err.split())
    assert "interrupted" in said and "1 student result(s) saved" in said and "run the same command again" in said


def test_results_are_readable_by_the_course_staff(tmp_path):
    path = tmp_path / "results" / "alice.json"
    batch.write_atomic(path, "{}\n")
    assert path.stat().st_mode & 0o777 == 0o644


def test_release_says_that_it_scanned_for_leaks(monkeypatch, capsys):
    monkeypatch.setattr(course, "release", lambda root, only: only)
    monkeypatch.setattr(course, "leaks", lambda root, assignment: [])
    args = cli.parser().parse_args(["release", "--assignment", "nlp"])
    assert cli.cmd_release(args) == 0
    assert "scanned 1 release(s) for solution, hidden-test and grader lines: no leak" in capsys.readouterr().out
    monkeypatch.setattr(course, "leaks", lambda root, assignment: ["x.ipynb: grader g.py: secret = 1"])
    assert cli.cmd_release(args) == 1
    said = capsys.readouterr().out
    assert "LEAK" in said and "1 leak(s)" in said


def test_a_stub_opened_with_jupytext_names_its_kernel():
    jupytext = pytest.importorskip("jupytext")
    ex = catalog.get(next(iter(catalog.load())))
    _, text = build.stub(ex)
    nb = jupytext.reads(text, fmt="py")
    assert nb.metadata["kernelspec"]["name"] == "python3"
    assert nb.cells[0].source.startswith(f"# mlkata exercise {ex.id}")
    compile(text, str(ex.stub), "exec")


def test_make_demo_says_what_it_installs_and_lets_pip_show_progress():
    if not shutil.which("make"):
        pytest.skip("needs GNU make")
    out = subprocess.run(["make", "-n", "-B", "demo"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    lines = out.stdout.splitlines()
    installs = [i for i, line in enumerate(lines) if "pip install" in line and "--upgrade pip" not in line]
    assert len(installs) == 2, out.stdout                       # torch first, then mlkata
    for i in installs:
        assert lines[i - 1].startswith("echo") and " -q" not in lines[i], out.stdout


def test_the_readme_loops_name_real_commands_and_the_new_ones():
    import re
    text = (ROOT / "README.md").read_text()
    loops = text[text.index("## The learner's loop"):text.index("## What is defended")]
    named = set(re.findall(r"(?:^|`)mlkata ([a-z][a-z-]+)", loops, re.M))      # commands, not prose
    commands = set(cli.parser()._subparsers._group_actions[0].choices)
    assert named <= commands, named - commands
    assert {"check", "watch", "hint", "list", "progress", "interview", "grade", "grade-batch", "release",
            "course", "student-wheel", "autograde", "publish-solutions"} <= named
    assert "mlkata course dry-run" in loops and "'.[compare]'" in loops
