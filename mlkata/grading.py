"""Grading a submission: the hidden and visible checks of each exercise, judged in this process
against the learner's code running in a sandboxed child (see :mod:`mlkata.sandbox`).
"""
from __future__ import annotations

import os
import types
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from . import catalog, confine, engine, sandbox
from .checks import Check, CheckResult, checks_of, zero_all


@dataclass
class ExerciseResult:
    id: str
    title: str
    results: list[CheckResult]
    notes: list[str] = field(default_factory=list)

    @property
    def score(self) -> float:
        return sum(r.score for r in self.results)

    @property
    def max_score(self) -> float:
        return sum(r.points for r in self.results)

    @property
    def status(self) -> str:
        if all(r.status == "todo" for r in self.results):
            return "todo"
        return "passing" if all(r.passed for r in self.results) else "failing"


@dataclass
class SubmissionResult:
    submission: str
    exercises: list[ExerciseResult]

    @property
    def score(self) -> float:
        return sum(e.score for e in self.exercises)

    @property
    def max_score(self) -> float:
        return sum(e.max_score for e in self.exercises)


def check_module(kind: str, ex: catalog.Exercise) -> types.ModuleType:
    """The visible or hidden check module of ``ex``, loaded once under a stable name."""
    name = sandbox.probe_module_name(kind, ex.id)
    path = ex.visible_checks if kind == "visible" else ex.grader
    known = engine.loaded_module(name, str(path))
    if known is not None:
        return known
    if not path.exists():
        raise catalog.CatalogError(f"{ex.id}: missing {path}")
    return engine.load_module(str(path), name)


def checks_for(ex: catalog.Exercise, hidden: bool = True) -> list[tuple[Check, bool]]:
    """(check, is_hidden) pairs: the visible checks, then the hidden ones."""
    pairs = [(c, False) for c in checks_of(check_module("visible", ex))]
    if hidden:
        pairs += [(c, True) for c in checks_of(check_module("hidden", ex))]
    return pairs


def protected_paths(ex: catalog.Exercise, submission_dir: str) -> list[str]:
    root = ex.root
    return [str(root / d) for d in ("graders", "solutions", "catalog", "tests", "source", "release")] + \
        [os.path.abspath(submission_dir)]


def grade_exercise(ex: catalog.Exercise, submission_dir: str, *, hidden: bool = True, isolate: bool = True,
                   call_timeout: float = sandbox.DEFAULT_CALL_TIMEOUT,
                   memory_bytes: int = sandbox.DEFAULT_MEMORY, budget: float = 120.0,
                   extra_protected: tuple[str, ...] = (), require_isolation: bool = False,
                   source_policy: bool = True, audit_hook: bool = True, confine: bool = True) -> ExerciseResult:
    """Grade one exercise of a submission; every fault of the learner's code becomes a message.

    ``source_policy`` and ``audit_hook`` switch off the two toolkit-level layers (the source scan
    and policy read by the judge, the audit hook in the child) -- only for tests that show what
    the kernel's layers and the runtime record stop on their own; ``confine=False`` skips the
    kernel's layers (for the benchmark, which measures what they cost).
    """
    pairs = checks_for(ex, hidden)
    student_file = str(ex.submission_file(submission_dir))
    refused = engine.source_refusal(student_file, ex.forbidden) if source_policy else ""
    if refused:
        return ExerciseResult(ex.id, ex.title, zero_all([
            CheckResult(c.name, c.title, c.points, 0.0, "failed", "", hidden=h) for c, h in pairs], refused))
    visible = check_module("visible", ex)
    modules = [visible] + ([check_module("hidden", ex)] if hidden else [])
    module_name = f"mlkata_submission__{ex.area}__{ex.name}"
    if isolate:
        job = sandbox.Job(student_file=student_file, module_name=module_name,
                          probe_modules={visible.__name__: visible.__file__},
                          hidden_probe_modules={m.__name__: m.__file__ for m in modules[1:]},
                          forbidden=list(ex.forbidden),
                          protected=protected_paths(ex, submission_dir) + list(extra_protected),
                          memory_bytes=memory_bytes, cpu_seconds=int(budget) + 60, audit_hook=audit_hook,
                          confine=confine)
        session = sandbox.IsolatedSession(job, call_timeout=call_timeout, budget=budget,
                                          require_isolation=require_isolation)
    else:
        session = engine.LocalSession(student_file, module_name, modules, ex.forbidden)
    try:
        results = engine.judge(pairs, session, hint_command=ex.hint_command)
    finally:
        session.close()
    notes = sorted(set(getattr(session, "sandbox_log", [])))
    # what the sandbox refused zeroes the exercise even when the code swallowed the error: the
    # kernel's reports come from the kernel, not from the child, so they cannot be hidden
    refused = sorted({r.describe() for r in getattr(session, "refused", []) if not r.incidental}) + \
        [f"{what} is not allowed while grading" for what in getattr(session, "attempts", [])]
    if refused:
        zero_all(results, engine.sandbox_message(refused))
    return ExerciseResult(ex.id, ex.title, results, notes)


def grade(submission_dir: str | os.PathLike, exercise_ids: list[str] | None = None, *, jobs: int | None = None,
          **options) -> SubmissionResult:
    """Grade ``submission_dir`` (laid out like ``exercises/``) on the chosen exercises.

    Exercises are graded ``jobs`` at a time (default: the machine's cores), each in its own
    child process; the submission folder is only read.
    """
    submission_dir = str(submission_dir)
    if not os.path.isdir(submission_dir):
        raise FileNotFoundError(f"submission folder {submission_dir!r} does not exist")
    if options.get("require_isolation"):
        require_isolation(options.get("isolate", True))
    exercises = catalog.select(exercise_ids)
    for ex in exercises:      # load check modules up front, in this thread
        checks_for(ex, options.get("hidden", True))
    jobs = jobs or min(len(exercises), os.cpu_count() or 1)
    if jobs <= 1 or not options.get("isolate", True):
        results = [grade_exercise(ex, submission_dir, **options) for ex in exercises]
    else:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            results = list(pool.map(lambda ex: grade_exercise(ex, submission_dir, **options), exercises))
    return SubmissionResult(submission_dir, results)


def require_isolation(isolate: bool = True) -> None:
    """Raise :class:`~mlkata.confine.IsolationRequired` unless this machine can apply every kernel
    layer (each child checks again what it actually applied)."""
    missing = confine.support().missing if isolate else {"all": "grading in-process (isolate=False)"}
    if missing:
        raise confine.IsolationRequired(missing)
