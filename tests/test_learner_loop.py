"""What a learner sees from plain `pytest exercises/` and from the CLI."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mlkata import build, catalog
from mlkata.checks import checks_of
from mlkata.grading import check_module
from helpers import ROOT

BIN = Path(sys.executable).parent
EXERCISES = list(catalog.load())


def run(cmd, cwd=ROOT, env=os.environ, **kw):
    env = {**env, "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=600, env=env, **kw)


def pytest_cmd(target):
    return [str(BIN / "pytest"), "-p", "no:cacheprovider", "--import-mode=importlib", "-q", str(target)]


@pytest.fixture(scope="module")
def filled(tmp_path_factory):
    """exercises/ with every reference copied over its stub."""
    folder = tmp_path_factory.mktemp("learner") / "exercises"
    shutil.copytree(ROOT / "exercises", folder)
    for ex in catalog.load().values():
        shutil.copyfile(ex.solution, ex.submission_file(folder))
    return folder


def test_untouched_stubs_fail_with_one_todo_line_per_exercise():
    """An untouched stub is one TODO line and one failure; a debugging exercise's stub (broken code
    that runs) fails each of its visible checks with its rule and says FAIL."""
    given = {e: len(checks_of(check_module("visible", catalog.get(e)))) for e in EXERCISES
             if build.gives_code(catalog.get(e))}
    failures = len(EXERCISES) - len(given) + sum(given.values())
    out = run(pytest_cmd("exercises"))
    assert out.returncode == 1, out.stdout[-2000:]
    summary = out.stdout.split("mlkata: one line per exercise")[1]
    for ex_id in EXERCISES:
        line = f"FAIL {ex_id}: 0/{given[ex_id]} visible checks pass" if ex_id in given else \
            f"TODO {ex_id}: not implemented yet"
        assert line in summary
    assert f"{failures} failed" in out.stdout.strip().splitlines()[-1], "one failure per untouched exercise"
    assert "short test summary" not in out.stdout, "the mlkata lines replace pytest's repeat of every failure"
    assert "Traceback" not in out.stdout
    asked = run(pytest_cmd("exercises") + ["-rf"])
    assert asked.stdout.count("FAILED ") == failures, "a learner who asks for pytest's summary gets it"


def test_references_pass_and_the_summary_announces_the_hidden_checks(filled):
    out = run(pytest_cmd(filled))
    assert out.returncode == 0, out.stdout[-3000:]
    for ex_id in EXERCISES:
        line = next(l for l in out.stdout.splitlines() if l.startswith(f"PASS {ex_id}:"))
        assert "visible checks passed" in line and "the graded run checks" in line


def test_grade_json_has_gradescope_shape_full_marks_for_references():
    out = run([str(BIN / "mlkata"), "grade", "--submission", "solutions", "--format", "json"])
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert set(data) == {"score", "max_score", "tests"}
    assert data["score"] == data["max_score"] > 0
    assert {t["name"].split(":")[0] for t in data["tests"]} == set(EXERCISES)
    for t in data["tests"]:
        assert set(t) == {"name", "score", "max_score", "output", "visibility"}
        assert t["visibility"] in ("visible", "after_published")


def test_grade_stubs_scores_zero_and_never_writes_to_the_submission(tmp_path):
    submission = tmp_path / "exercises"
    shutil.copytree(ROOT / "exercises", submission)
    before = {p: p.read_bytes() for p in submission.rglob("*") if p.is_file()}
    out = run([str(BIN / "mlkata"), "grade", "--submission", str(submission), "--format", "json"])
    data = json.loads(out.stdout)
    assert data["score"] == 0 and data["max_score"] > 0
    after = {p: p.read_bytes() for p in submission.rglob("*") if p.is_file()}
    assert after == before


def test_grade_a_missing_folder_or_an_unknown_exercise_says_what(tmp_path):
    out = run([str(BIN / "mlkata"), "grade", "--submission", str(tmp_path / "nope")])
    assert out.returncode == 2 and "does not exist" in out.stderr
    out = run([str(BIN / "mlkata"), "grade", "--exercise", "nlp/beam"])
    assert out.returncode == 2 and "unknown exercise" in out.stderr and "nlp/beam_search" in out.stderr


def test_a_missing_file_in_a_submission_costs_only_that_exercise(tmp_path):
    submission = tmp_path / "s"
    shutil.copytree(ROOT / "solutions", submission)
    missing = catalog.get(EXERCISES[0])
    missing.submission_file(submission).unlink()
    out = run([str(BIN / "mlkata"), "grade", "--submission", str(submission), "--format", "json"])
    tests = json.loads(out.stdout)["tests"]
    for t in tests:
        if t["name"].startswith(missing.id + ":"):
            assert t["score"] == 0 and "no file at" in t["output"]
        else:
            assert t["score"] == t["max_score"], t


def test_check_and_hint_and_list():
    out = run([str(BIN / "mlkata"), "check", EXERCISES[0]])
    assert out.returncode == 1 and "not implemented yet" in out.stdout
    out = run([str(BIN / "mlkata"), "check", EXERCISES[0], "--submission", "solutions"])
    assert out.returncode == 0 and "the graded run checks" in out.stdout
    ex = catalog.get(EXERCISES[0])
    out = run([str(BIN / "mlkata"), "hint", ex.id, "--level", "2"])
    assert ex.hints[0][:30] in " ".join(out.stdout.split()) and "hint 2/" in out.stdout
    out = run([str(BIN / "mlkata"), "list"])
    assert out.returncode == 0 and all(i.split("/")[1][:8] in out.stdout for i in EXERCISES)


def test_list_track_shows_its_steps_in_order_with_status():
    track = next(iter(catalog.tracks().values()))
    out = run([str(BIN / "mlkata"), "list", "--track", track.name, "--submission", "solutions"],
              env={**os.environ, "COLUMNS": "200"})     # wide enough that rich truncates no id
    assert out.returncode == 0, out.stderr
    lines = [line for line in out.stdout.splitlines() if "│" in line]
    assert [line.split("│")[2].strip() for line in lines] == list(track.exercises)
    assert [line.split("│")[1].strip() for line in lines] == [str(i) for i in range(1, len(track.exercises) + 1)]
    assert all("passing" in line for line in lines)
    out = run([str(BIN / "mlkata"), "list", "--track", "no_such_track"])
    assert out.returncode == 2 and "unknown track 'no_such_track'" in out.stderr and track.name in out.stderr
