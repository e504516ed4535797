"""Grading a class: parallel, atomic, resumable, and the same on a Dask cluster."""
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mlkata import batch, catalog
from helpers import ROOT

BIN = Path(sys.executable).parent
EXERCISE = "fundamentals/gradient_clipping"
HOSTILE = ROOT / "tests" / "hostile"


def make_class(folder: Path, n: int = 6) -> Path:
    """n students: references, stubs and hostile submissions in turn."""
    ex = catalog.get(EXERCISE)
    for i in range(n):
        student = folder / f"student{i:02d}"
        kind = i % 3
        source = ex.solution if kind == 0 else ex.stub if kind == 1 else HOSTILE / "infinite_loop.py"
        target = ex.submission_file(student)
        target.parent.mkdir(parents=True)
        shutil.copyfile(source, target)
    return folder


def expected_scores(n):
    full = sum(c.points for c, _ in __import__("mlkata.grading", fromlist=["x"]).checks_for(catalog.get(EXERCISE)))
    return {f"student{i:02d}": (full if i % 3 == 0 else 0) for i in range(n)}


def read_scores(out: Path) -> dict:
    rows = (out / batch.SCORES).read_text().splitlines()[1:]
    return {r.split(",")[0]: float(r.split(",")[1]) for r in rows}


OPTIONS = {"call_timeout": 6.0, "budget": 60.0}   # generous: CI runs this beside other tests


def test_local_batch_grades_everyone_then_resumes_without_regrading(tmp_path):
    klass = make_class(tmp_path / "class")
    out = tmp_path / "out"
    report = batch.grade_batch(klass, out, exercise_ids=[EXERCISE], workers=2, options=OPTIONS)
    assert sorted(report.graded) == sorted(batch.students(klass)) and not report.failed
    assert read_scores(out) == expected_scores(6)
    for s in batch.students(klass):
        data = json.loads(batch.result_path(out, s).read_text())
        assert set(data) == {"score", "max_score", "tests"}
    again = batch.grade_batch(klass, out, exercise_ids=[EXERCISE], workers=2, options=OPTIONS)
    assert again.graded == [] and len(again.skipped) == 6
    forced = batch.grade_batch(klass, out, exercise_ids=[EXERCISE], workers=1, force=True, options=OPTIONS)
    assert len(forced.graded) == 6 and read_scores(out) == expected_scores(6)


def test_an_interrupted_batch_resumed_gives_the_scores_of_an_uninterrupted_one(tmp_path):
    klass = make_class(tmp_path / "class", n=9)
    out = tmp_path / "out"
    cmd = [str(BIN / "mlkata"), "grade-batch", str(klass), "--out", str(out), "--exercise", EXERCISE,
           "--workers", "1", "--timeout", "6"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list(out.glob("student*.json"))) < 2:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)        # as abrupt as it gets: no cleanup handler runs
    proc.wait(timeout=30)
    finished = sorted(out.glob("student*.json"))
    assert 2 <= len(finished) < 9, "the run should have been interrupted part-way"
    for path in finished:                       # every file present is complete
        json.loads(path.read_text())
    subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, timeout=300)
    assert read_scores(out) == expected_scores(9)
    assert not list(out.glob(".*.tmp")), "no temporary file is left behind"


def test_dask_cluster_gives_the_same_results_as_the_local_pool(tmp_path):
    distributed = pytest.importorskip("distributed")
    klass = make_class(tmp_path / "class", n=3)
    batch.grade_batch(klass, tmp_path / "local", exercise_ids=[EXERCISE], workers=1, options=OPTIONS)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster:
        report = batch.grade_batch(klass, tmp_path / "dask", exercise_ids=[EXERCISE], executor="dask",
                                   scheduler=cluster.scheduler_address, options=OPTIONS)
    assert not report.failed, report.failed
    for s in batch.students(klass):
        local = json.loads(batch.result_path(tmp_path / "local", s).read_text())
        remote = json.loads(batch.result_path(tmp_path / "dask", s).read_text())
        assert [(t["name"], t["score"]) for t in local["tests"]] == [(t["name"], t["score"]) for t in remote["tests"]]
    assert read_scores(tmp_path / "dask") == read_scores(tmp_path / "local")


def test_a_missing_submissions_folder_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        batch.grade_batch(tmp_path / "nope", tmp_path / "out")


def test_pool_workers_adopt_the_graders_fork_server_instead_of_launching_their_own():
    """A worker launching a server of its own pays another torch import and catalog load (~1.5 s
    each, measured); every worker must reach the server the grader started."""
    from mlkata import server
    address = server.start()
    seen = {}
    batch.run_local([(f"task{i}", server.start, ()) for i in range(4)], 2,
                    lambda task, result, error: seen.__setitem__(task, result or error))
    assert seen == {f"task{i}": address for i in range(4)}
