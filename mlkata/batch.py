"""Grading a whole class: every student folder of a submissions folder, in parallel, resumable.

Each student's result is written as soon as it is known, atomically (a temporary file renamed
over the target), so an interrupted run -- Ctrl-C, a kill, a crash -- loses no finished result
and leaves no half-written file; re-running skips students already graded (unless ``force``).
``scores.csv`` is rebuilt from the per-student files at the end of every run.

Executors: ``local`` is a process pool on this machine (each worker grades whole students, its
exercises in sandboxed children); ``dask`` submits the same function to a ``dask.distributed``
scheduler, so the class can be graded on any Dask cluster.
"""
from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

SCORES = "scores.csv"
RESULT_MODE = 0o644      # results are read by the course's staff: who may is the results folder's business


def students(submissions: Path) -> list[str]:
    """Student folder names, sorted; hidden folders are ignored."""
    if not submissions.is_dir():
        raise FileNotFoundError(f"submissions folder {str(submissions)!r} does not exist")
    return sorted(p.name for p in submissions.iterdir() if p.is_dir() and not p.name.startswith("."))


def result_path(out: Path, student: str) -> Path:
    return out / f"{student}.json"


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that readers see the old file or the new one, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, RESULT_MODE)      # mkstemp's 0600 would hide results from the course's TAs
        with os.fdopen(fd, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def grade_student(submission: str, exercise_ids: list[str] | None, options: dict) -> dict:
    """Grade one student folder; returns Gradescope's results.json dict (runs in a worker)."""
    single_thread()
    from . import grading, report
    result = grading.grade(submission, exercise_ids, jobs=1, **options)
    return report.gradescope(result)


def single_thread() -> None:
    """Workers run side by side on few cores, and the checks' tensors are tiny: torch's intra-op
    threads only contend (measured here: 2 workers were slower than 1 until this)."""
    import torch
    torch.set_num_threads(1)


@dataclass
class BatchReport:
    graded: list[str]
    skipped: list[str]
    failed: dict[str, str]


def grade_batch(submissions: str | os.PathLike, out: str | os.PathLike, *, exercise_ids: list[str] | None = None,
                workers: int | None = None, force: bool = False, executor: str = "local",
                scheduler: str | None = None, options: dict | None = None,
                progress: Callable[[str, int, int], None] | None = None) -> BatchReport:
    """Grade every student folder under ``submissions`` into ``out`` (see the module docstring)."""
    submissions, out = Path(submissions), Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for leftover in out.glob(".*.tmp"):          # from a run that was killed mid-write
        leftover.unlink()
    everyone = students(submissions)
    todo = [s for s in everyone if force or not result_path(out, s).exists()]
    skipped = [s for s in everyone if s not in todo]
    options = options or {}
    if options.get("require_isolation") and executor == "local":
        from . import grading
        grading.require_isolation()        # refuse before any student is graded, not once per student
    failed: dict[str, str] = {}
    graded: list[str] = []

    def done(student: str, result: dict | None, error: str | None) -> None:
        if result is not None:
            write_atomic(result_path(out, student), json.dumps(result, indent=1) + "\n")
            graded.append(student)
        else:
            failed[student] = error or "unknown error"
        if progress:
            progress(student, len(graded) + len(failed), len(todo))

    jobs = [(s, str(submissions / s)) for s in todo]
    if executor == "dask":
        _run_dask(jobs, exercise_ids, options, scheduler, done)
    elif executor == "local":
        _run_local(jobs, exercise_ids, options, workers or os.cpu_count() or 1, done)
    else:
        raise ValueError(f"unknown executor {executor!r}: use 'local' or 'dask'")
    write_scores(out, everyone)
    return BatchReport(graded, skipped, failed)


def _run_local(jobs, exercise_ids, options, workers: int, done) -> None:
    run_local([(student, grade_student, (path, exercise_ids, options)) for student, path in jobs], workers, done)


def run_local(tasks: list[tuple[str, Callable, tuple]], workers: int, done) -> None:
    """Run ``fn(*args)`` for each ``(student, fn, args)`` on a process pool of ``workers``, calling
    ``done(student, result, error)`` in this process as each finishes."""
    if workers <= 1:
        for student, fn, fn_args in tasks:
            _settle(done, student, lambda: fn(*fn_args))
        return
    from . import server
    ctx = server.context()      # workers fork from a server that has imported torch already
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=server.exit_with,
                             initargs=(os.getpid(),)) as pool:
        futures = {pool.submit(fn, *fn_args): student for student, fn, fn_args in tasks}
        try:
            for fut in as_completed(futures):
                _settle(done, futures[fut], fut.result)
        except BaseException:
            for fut in futures:
                fut.cancel()
            raise


def _run_dask(jobs, exercise_ids, options, scheduler: str | None, done) -> None:
    from distributed import Client, as_completed as dask_completed
    if not scheduler:
        raise ValueError("--executor dask needs --scheduler ADDRESS (e.g. tcp://127.0.0.1:8786)")
    with Client(scheduler) as client:
        futures = {client.submit(grade_student, path, exercise_ids, options, key=f"mlkata-grade-{student}",
                                 pure=False): student for student, path in jobs}
        for fut in dask_completed(list(futures)):
            _settle(done, futures[fut], fut.result)


def _settle(done, student: str, get: Callable[[], dict]) -> None:
    try:
        result = get()
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception as e:  # noqa: BLE001 - one student's failure must not stop the class
        done(student, None, f"{type(e).__name__}: {e}")
        return
    done(student, result, None)


def write_scores(out: Path, everyone: Iterable[str]) -> Path:
    """``scores.csv``: one row per student with a result, one column per exercise, and the total."""
    rows, exercises = [], []
    for student in everyone:
        path = result_path(out, student)
        if not path.exists():
            continue
        data = json.loads(path.read_text())
        per_ex: dict[str, float] = {}
        for t in data["tests"]:
            ex_id = t["name"].split(":", 1)[0]
            per_ex[ex_id] = per_ex.get(ex_id, 0.0) + t["score"]
            if ex_id not in exercises:
                exercises.append(ex_id)
        rows.append((student, data["score"], data["max_score"], per_ex))
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["student", "score", "max_score", *exercises])
    for student, score, max_score, per_ex in rows:
        writer.writerow([student, f"{score:g}", f"{max_score:g}", *(f"{per_ex.get(e, 0):g}" for e in exercises)])
    path = out / SCORES
    write_atomic(path, buf.getvalue())
    return path
