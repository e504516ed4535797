"""``mlkata``: a thin shell over functions you can call from Python."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rich.markup import escape


def _console(stderr: bool = False):
    from rich.console import Console
    return Console(stderr=stderr, highlight=False)


def cmd_list(args) -> int:
    from rich.table import Table
    from . import catalog, grading
    track = catalog.track(args.track) if args.track else None
    exercises = [catalog.get(i) for i in _track_exercises(track)] if track else catalog.select(args.exercise)
    result = grading.grade(args.submission, [e.id for e in exercises], hidden=False)
    title = f"track {track.name}: {track.title}" if track else "mlkata exercises"
    table = Table(title=f"{escape(title)} ({args.submission})", caption=escape(track.about) if track else None)
    for col in ("step",) * bool(track) + ("exercise", "area", "difficulty", "min", "points", "status"):
        # an id is what the learner types next: never cut or wrapped, whatever the terminal's width
        table.add_column(col, no_wrap=col == "exercise", min_width=max(len(e.id) for e in exercises)
                         if col == "exercise" and exercises else None)
    for step, (ex, res) in enumerate(zip(exercises, result.exercises), 1):
        points = sum(c.points for c, _ in grading.checks_for(ex))
        status = {"todo": "[yellow]todo[/]", "passing": "[green]passing[/]", "failing": "[red]failing[/]"}[res.status]
        table.add_row(*(str(step),) * bool(track), ex.id, ex.area, ex.difficulty, str(ex.minutes), f"{points:g}", status)
    _console().print(table)
    return 0


def _track_exercises(track) -> list[str]:
    """A track's steps that are written (an id still being authored is in `order` but not loaded)."""
    from . import catalog
    written = catalog.load()
    return [i for i in track.exercises if i in written]


def cmd_check(args) -> int:
    from . import catalog, grading
    ex = catalog.get(args.id)
    res = grading.grade_exercise(ex, args.submission, hidden=False)
    return 0 if _print_check(_console(), ex, res, args.submission) else 1


def _print_check(console, ex, res, folder) -> bool:
    """Print one exercise's visible-check results; True when all pass."""
    from . import grading
    console.print(f"[bold]{ex.id}[/]: {escape(ex.title)}  ({ex.submission_file(folder)})")
    for r in res.results:
        mark = "[green]✓[/]" if r.passed else ("[yellow]·[/]" if r.status == "todo" else "[red]✗[/]")
        console.print(f" {mark} {escape(r.title)}")
        if not r.passed:
            console.print("     " + r.message.replace("\n", "\n     "), style="dim", markup=False)
    hidden = [c for c, h in grading.checks_for(ex) if h]
    if res.status == "passing":
        console.print(f"[green]visible checks passed ({len(res.results)}/{len(res.results)})[/]; "
                      f"the graded run checks {len(hidden)} more ({sum(c.points for c in hidden):g} points): "
                      f"mlkata grade --exercise {ex.id}")
        return True
    console.print(f"[red]{sum(r.passed for r in res.results)}/{len(res.results)} visible checks pass[/]"
                  f" -- stuck? mlkata hint {ex.id}")
    return False


def cmd_watch(args) -> int:
    from watchfiles import watch
    from . import catalog, grading
    console = _console()
    folder = Path(args.submission).resolve()
    exercises = catalog.select(None)
    by_file = {ex.submission_file(folder): ex for ex in exercises}

    def first_unfinished():
        for ex in exercises:
            if grading.grade_exercise(ex, str(folder), hidden=False).status != "passing":
                return ex
        return None

    current = catalog.get(args.id) if args.id else first_unfinished()
    if current is None:
        console.print("[green]every exercise passes its visible checks[/] -- mlkata grade for the full run")
        return 0
    try:
        while current is not None:
            console.rule(f"[bold]{current.id}")
            snapshot = _snapshot(by_file)
            res = grading.grade_exercise(current, str(folder), hidden=False)
            if _print_check(console, current, res, folder):
                nxt = first_unfinished()
                if nxt is None:
                    console.print("[green bold]all exercises pass their visible checks![/]")
                    return 0
                console.print(f"[green]done[/] -- next: [bold]{nxt.id}[/] ({nxt.submission_file(folder)})")
                current = nxt
                continue
            console.print(f"[dim]watching {current.submission_file(folder)} -- save to re-run, Ctrl-C to quit[/]")
            current = _wait_for_change(watch, folder, by_file, snapshot)
    except KeyboardInterrupt:
        pass
    console.print("bye")
    return 0


def _snapshot(by_file) -> dict:
    return {p: (p.stat().st_mtime_ns, p.stat().st_size) if p.exists() else None for p in by_file}


def _wait_for_change(watch, folder, by_file, snapshot):
    """Block until an exercise file differs from ``snapshot`` (taken before the last run, so a
    save made while the checks ran is not missed); that exercise becomes the current one."""
    for _ in watch(folder, debounce=200, step=50, yield_on_timeout=True, rust_timeout=500):
        now = _snapshot(by_file)
        changed = [p for p in by_file if now[p] != snapshot[p]]
        if changed:
            return by_file[changed[0]]
    return None


def cmd_progress(args) -> int:
    from . import interview, progress
    rows = progress.collect(args.submission)
    history = interview.load_history(args.history)
    progress.render_terminal(_console(), rows, history)
    if args.html:
        Path(args.html).write_text(progress.render_html(rows, history))
        _console().print(f"wrote {args.html}")
    return 0


def cmd_grade(args) -> int:
    from . import grading, report
    result = grading.grade(args.submission, args.exercise or None, jobs=args.jobs,
                           call_timeout=args.timeout, memory_bytes=int(args.memory_gb * 2**30),
                           require_isolation=args.require_isolation)
    if args.format == "json":
        print(json.dumps(report.gradescope(result), indent=1))
    else:
        report.render(_console(), result, verbose=not args.quiet)
    return 0


def cmd_grade_batch(args) -> int:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    from . import batch
    console = _console(stderr=True)
    options = {"call_timeout": args.timeout, "memory_bytes": int(args.memory_gb * 2**30),
               "require_isolation": args.require_isolation}
    with Progress(TextColumn("grading"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TextColumn("{task.description}"), console=console, transient=False) as bar:
        task = bar.add_task("", total=None)

        def progress(student: str, done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, description=student)

        try:
            report = batch.grade_batch(args.submissions, args.out, exercise_ids=args.exercise or None,
                                       workers=args.workers, force=args.force, executor=args.executor,
                                       scheduler=args.scheduler, options=options, progress=progress)
        except KeyboardInterrupt:
            bar.stop()
            saved = len(list(Path(args.out).glob("*.json")))
            console.print(f"[yellow]interrupted[/]: {saved} student result(s) saved in {args.out} (each written "
                          "whole, none half-written); run the same command again to resume -- students already "
                          "graded are skipped")
            return 130
    console.print(f"graded {len(report.graded)}, skipped {len(report.skipped)} already graded "
                  f"(--force regrades), failed {len(report.failed)}; scores in {Path(args.out) / batch.SCORES}")
    for student, error in report.failed.items():
        console.print(f"[red]failed:[/] {student}: {error}")
    return 1 if report.failed else 0


def cmd_doctor(args) -> int:
    """This machine's isolation level: what the kernel offers, then a confined child put to the test."""
    from . import doctor
    report = doctor.examine()
    doctor.render(_console(), report)
    return 0 if report.full or not args.require_isolation else 1


def cmd_build(args) -> int:
    from . import build
    console = _console()
    if args.check:
        problems = build.stale()
        for p in problems:
            console.print(f"[red]{escape(p)}[/]")
        if problems:
            console.print(f"[red]{len(problems)} problem(s)[/]: run `mlkata build` (and `mlkata release`); "
                          "edit catalog/ or graders/, never the generated files")
            return 1
        console.print("[green]all generated files are up to date[/]")
        return 0
    written, kept = build.write(force=args.force, only=args.exercise or None)
    for w in written:
        console.print(f"wrote {w}")
    for k in kept:
        console.print(f"[yellow]kept {k}: it was edited by hand; --force overwrites it[/]")
    console.print(f"{len(written)} file(s) written, {len(kept)} kept")
    return 0


def cmd_release(args) -> int:
    from . import catalog, course
    console = _console()
    for assignment in course.release(catalog.ROOT, args.assignment or None):
        console.print(f"released release/{assignment}")
    scanned = args.assignment or course.assignments()
    problems = [leak for a in scanned for leak in course.leaks(catalog.ROOT, a)]
    for p in problems:
        console.print(f"[red]LEAK[/] {escape(p)}")
    verdict = f"[red]{len(problems)} leak(s)[/]" if problems else "[green]no leak[/]"
    console.print(f"scanned {len(scanned)} release(s) for solution, hidden-test and grader lines: {verdict}")
    return 1 if problems else 0


def cmd_autograde(args) -> int:
    from . import course
    if args.require_isolation:
        from . import grading
        grading.require_isolation()
    scores = course.fast_autograde(Path(args.course).resolve(), args.assignment, workers=args.workers,
                                   options={"require_isolation": args.require_isolation})
    console = _console()
    for student, notebooks in scores.items():
        console.print(f"{student}: {sum(notebooks.values()):g} points "
                      f"({', '.join(f'{n} {s:g}' for n, s in notebooks.items())})")
    console.print(f"recorded {len(scores)} submission(s) in {Path(args.course) / 'gradebook.db'}; "
                  f"graded notebooks in {Path(args.course) / 'autograded'}")
    return 0


def cmd_publish_solutions(args) -> int:
    from . import catalog, course
    written = course.publish_solutions(catalog.ROOT, Path(args.out), args.assignment or None)
    _console().print(f"wrote {len(written)} executed solution notebooks under {args.out}")
    return 0


def cmd_course_dry_run(args) -> int:
    from rich.table import Table
    from . import catalog, dry_run
    console = _console()
    console.print(f"dry run of {args.assignment}: real nbgrader grades the reference, the untouched stub and a "
                  "half-solved notebook of each exercise, in a temporary course (a few seconds a notebook)")
    rows = dry_run.dry_run(catalog.ROOT, args.assignment, args.exercise or None,
                           progress=lambda what: console.print(f"[dim]{what}[/]"))
    table = Table(title=f"{args.assignment}: nbgrader score (mlkata grade of the same code)")
    for col in ("exercise", "points", "reference: full", "stub: zero", "half-solved: partial", ""):
        table.add_column(col, no_wrap=col == "exercise", justify="left" if col == "exercise" else "right")
    bad = 0
    for row in rows:
        cells = [_dry_run_cell(row, kind) for kind in dry_run.KINDS]
        problems = row.problems()
        bad += bool(problems)
        table.add_row(row.exercise, f"{row.points:g}", *cells, "[green]ok[/]" if not problems else "[red]check[/]")
    console.print(table)
    for row in rows:
        for problem in row.problems():
            console.print(f"[red]{row.exercise}[/]: {escape(problem)}")
    console.print(f"{len(rows) - bad} of {len(rows)} exercises grade as expected" +
                  ("" if not bad else "; fix the others before `mlkata release`"))
    return 1 if bad else 0


def _dry_run_cell(row, kind: str) -> str:
    if kind not in row.nbgrader:
        return "[dim]n/a[/]"
    got, want = row.nbgrader[kind], row.expected.get(kind)
    return f"{got:g} ({want:g})" if got == want else f"[red]{got:g} ({want:g})[/]"


def cmd_student_wheel(args) -> int:
    from . import student
    wheel = student.build_wheel(Path(args.out))
    _console().print(f"wrote {wheel}: the toolkit and the visible checks, no reference and no grader; "
                     "students `pip install` it (a release notebook's setup cell installs it from beside the notebook)")
    return 0


def cmd_interview(args) -> int:
    from . import interview
    history = interview.load_history(args.history)
    ex = interview.pick(args.submission, history, area=args.area, track=args.track, exercise=args.exercise)
    minutes = args.minutes if args.minutes is not None else ex.minutes
    interview.run(ex, args.submission, minutes=minutes, track=args.track, history=args.history, console=_console())
    return 0


def cmd_quality(args) -> int:
    """Measure grader quality (variants caught and accepted, null submissions); --write publishes it."""
    import torch
    from rich.table import Table
    from . import catalog, quality
    torch.set_num_threads(1)     # the graded tensors are tiny: threads only add overhead
    console = _console()
    exercises = catalog.select(args.id or None)
    table = Table(title="grader quality")
    for col in ("exercise", "checks", "points", "bugs caught", "alternatives accepted", "null", "twins"):
        table.add_column(col)
    figures, failing = {}, []
    for ex in exercises:
        f = quality.measure(ex, isolate=args.isolate)
        figures[ex.id] = f
        ok = f["bugs_caught"] == f["bugs"] and f["alts_accepted"] == f["alts"] and f["null_best"] == 0
        failing += [] if ok else [ex.id]
        mark = lambda good, text: text if good else f"[red]{text}[/]"  # noqa: E731
        table.add_row(ex.id, str(f["checks"]), f"{f['points']:g}",
                      mark(not f["missed"], f"{f['bugs_caught']}/{f['bugs']}" + (f" missed {', '.join(f['missed'])}"
                                                                                  if f["missed"] else "")),
                      mark(not f["rejected"], f"{f['alts_accepted']}/{f['alts']}" +
                           (f" rejected {', '.join(f['rejected'])}" if f["rejected"] else "")),
                      mark(f["null_best"] == 0, f"{f['null_best']:g}" +
                           (f" ({', '.join(f['null_scoring'])})" if f["null_scoring"] else "")),
                      ", ".join(f"{t['library']} {t['version']}" for t in f["twins"]) or "--")
    console.print(table)
    if args.write:
        quality.save(figures)
        console.print(f"wrote {quality.DATA} ({len(figures)} exercise(s)) and {quality.PAGE}")
    return 1 if failing else 0


def cmd_hint(args) -> int:
    from . import catalog, interview
    ex = catalog.get(args.id)
    level = max(1, min(args.level, len(ex.hints)))
    console = _console()
    if interview.note_hint(ex.id, level):
        console.print("[dim](an interview on this exercise is running: this hint is counted)[/]")
    for i, hint in enumerate(ex.hints[:level], 1):
        console.print(f"[bold]hint {i}/{len(ex.hints)}[/] {escape(hint)}")
    if level < len(ex.hints):
        console.print(f"[dim]more: mlkata hint {ex.id} --level {level + 1}[/]")
    return 0


def cmd_coverage(args) -> int:
    from rich.table import Table
    from . import coverage
    cov = coverage.compute()
    console = _console()
    table = Table(title="the seed's areas")
    table.add_column("area")
    table.add_column("n", justify="right")
    table.add_column("exercises")
    for a, (title, ids) in cov.areas.items():
        table.add_row(title, str(len(ids)), ", ".join(i.split("/")[1] for i in ids))
    console.print(table)
    frontier = {f"frontier.{g}": entry for g, entry in cov.frontier.items()}
    for qid, (text, concepts) in {**cov.questions, **frontier}.items():
        table = Table(title=f"{qid}: {text}", title_justify="left")
        table.add_column("concept")
        table.add_column("exercises")
        for c, ids in concepts.items():
            table.add_row(c, ", ".join(ids) or "[red]none[/]")
        console.print(table)
    gaps = cov.uncovered()
    for g in gaps:
        console.print(f"[red]gap:[/] {escape(g)}")
    return 1 if gaps else 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="mlkata", description="Auto-graded ML-interview coding exercises.")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("list", help="exercises with area, points and your status")
    s.add_argument("--submission", default="exercises", help="folder laid out like exercises/ (default: exercises)")
    which = s.add_mutually_exclusive_group()
    which.add_argument("--exercise", action="append", default=[], metavar="ID")
    which.add_argument("--track", metavar="NAME", help="one track's exercises, in order (see mlkata progress)")
    s.set_defaults(fn=cmd_list)

    s = sub.add_parser("check", help="run the visible checks of one exercise")
    s.add_argument("id")
    s.add_argument("--submission", default="exercises")
    s.set_defaults(fn=cmd_check)

    s = sub.add_parser("watch", help="re-run the visible checks whenever you save; move on when they pass")
    s.add_argument("id", nargs="?", help="start here (default: the first unfinished exercise)")
    s.add_argument("--submission", default="exercises")
    s.set_defaults(fn=cmd_watch)

    s = sub.add_parser("progress", help="your progress per area; --html writes a report page")
    s.add_argument("--submission", default="exercises")
    s.add_argument("--html", metavar="FILE", help="also write a self-contained HTML report")
    s.add_argument("--history", metavar="FILE", help="interview history (default: $MLKATA_HISTORY or "
                                                     ".mlkata/interviews.jsonl)")
    s.set_defaults(fn=cmd_progress)

    s = sub.add_parser("interview", help="a timed mock interview on an exercise you have not done, graded for real")
    s.add_argument("--area", help="draw from this area")
    s.add_argument("--track", help="the next step of this track (mlkata list --track)")
    s.add_argument("--exercise", metavar="ID", help="this exercise")
    s.add_argument("--minutes", type=float, help="time allowed (default: the exercise's estimate)")
    s.add_argument("--submission", default="exercises", help="your exercises folder (default: exercises)")
    s.add_argument("--history", metavar="FILE", help="where records go (default: $MLKATA_HISTORY or "
                                                     ".mlkata/interviews.jsonl)")
    s.set_defaults(fn=cmd_interview)

    s = sub.add_parser("grade", help="grade a submission with the hidden graders")
    s.add_argument("--submission", default="exercises", help="folder laid out like exercises/ (default: exercises)")
    s.add_argument("--exercise", action="append", default=[], metavar="ID", help="repeatable; none means all")
    s.add_argument("--format", choices=("text", "json"), default="text")
    s.add_argument("--jobs", type=int, default=None, help="exercises graded at once (default: all cores)")
    s.add_argument("--timeout", type=float, default=20.0, help="seconds per check (default 20)")
    s.add_argument("--memory-gb", type=float, default=4.0, help="memory cap per exercise (default 4)")
    s.add_argument("-q", "--quiet", action="store_true", help="one line per exercise")
    _isolation_option(s)
    s.set_defaults(fn=cmd_grade)

    s = sub.add_parser("grade-batch", help="grade every student folder of a class, in parallel, resumable")
    s.add_argument("submissions", help="folder with one sub-folder per student, each laid out like exercises/")
    s.add_argument("--out", required=True, help="results folder: <student>.json per student and scores.csv")
    s.add_argument("--exercise", action="append", default=[], metavar="ID")
    s.add_argument("--workers", type=int, default=None, help="students graded at once (default: all cores)")
    s.add_argument("--force", action="store_true", help="regrade students that already have a result")
    s.add_argument("--executor", choices=("local", "dask"), default="local")
    s.add_argument("--scheduler", help="dask scheduler address, with --executor dask")
    s.add_argument("--timeout", type=float, default=20.0, help="seconds per check (default 20)")
    s.add_argument("--memory-gb", type=float, default=4.0, help="memory cap per exercise (default 4)")
    _isolation_option(s)
    s.set_defaults(fn=cmd_grade_batch)

    s = sub.add_parser("doctor", help="this machine's grading isolation: which kernel protections apply")
    _isolation_option(s, "exit 1 unless every protection applies")
    s.set_defaults(fn=cmd_doctor)

    s = sub.add_parser("build", help="generate stubs, tests, references and notebooks from catalog/")
    s.add_argument("--check", action="store_true", help="fail if any generated file is stale or edited")
    s.add_argument("--force", action="store_true", help="overwrite generated files edited by hand")
    s.add_argument("--exercise", action="append", default=[], metavar="ID", help="only these (repeatable)")
    s.set_defaults(fn=cmd_build)

    s = sub.add_parser("release", help="nbgrader student release: release/<assignment>/ (needs nbgrader)")
    s.add_argument("--assignment", action="append", default=[], metavar="NAME")
    s.set_defaults(fn=cmd_release)

    s = sub.add_parser("autograde", help="nbgrader autograde of a whole class, in parallel, into the gradebook")
    s.add_argument("assignment")
    s.add_argument("--course", default=".", help="nbgrader course directory (default: .)")
    s.add_argument("--workers", type=int, default=None)
    _isolation_option(s)
    s.set_defaults(fn=cmd_autograde)

    s = sub.add_parser("publish-solutions", help="executed solution notebooks for after the deadline")
    s.add_argument("--out", default="published", help="folder (default: published/)")
    s.add_argument("--assignment", action="append", default=[], metavar="NAME")
    s.set_defaults(fn=cmd_publish_solutions)

    s = sub.add_parser("course", help="course checks for instructors: `mlkata course dry-run ASSIGNMENT`")
    course_sub = s.add_subparsers(dest="course_command", required=True)
    d = course_sub.add_parser("dry-run", help="grade the reference, the stub and a half-solved notebook of each "
                                              "exercise through real nbgrader; expect full / zero / partial")
    d.add_argument("assignment")
    d.add_argument("--exercise", action="append", default=[], metavar="ID", help="only these (repeatable)")
    d.set_defaults(fn=cmd_course_dry_run)

    s = sub.add_parser("student-wheel", help="the student toolkit: a wheel with the visible checks, no answers")
    s.add_argument("--out", default="dist", help="folder for the wheel (default: dist/)")
    s.set_defaults(fn=cmd_student_wheel)

    s = sub.add_parser("coverage", help="the seed's areas and questions, the frontier topics, and the exercises "
                                        "covering them")
    s.set_defaults(fn=cmd_coverage)

    s = sub.add_parser("quality", help="measure grader quality: variants caught and accepted, null submissions")
    s.add_argument("id", nargs="*", help="exercises (default: all)")
    s.add_argument("--write", action="store_true", help="publish the figures: docs/quality.json and docs/quality.md")
    s.add_argument("--isolate", action="store_true", help="grade in sandboxed children (slower; same verdicts)")
    s.set_defaults(fn=cmd_quality)

    s = sub.add_parser("hint", help="progressive hints for an exercise")
    s.add_argument("id")
    s.add_argument("--level", type=int, default=1)
    s.set_defaults(fn=cmd_hint)
    return p


def _isolation_option(s, help_text: str = "refuse to grade unless every kernel protection applies "
                                           "(Landlock, seccomp, no_new_privs, unprivileged user): see mlkata doctor"):
    s.add_argument("--require-isolation", action="store_true", help=help_text)


def _exercises_named(args) -> list[str] | None:
    """The exercises a command is limited to, if any (None: all of them)."""
    from .catalog import CatalogError, track
    if args.command == "check":
        return [args.id]
    if args.command == "interview" and args.exercise:
        return [args.exercise]
    if getattr(args, "track", None):
        try:
            return _track_exercises(track(args.track))
        except CatalogError:
            return None       # the command itself reports the unknown track
    return getattr(args, "exercise", None) or None


def main(argv: list[str] | None = None) -> int:
    from .catalog import CatalogError
    from .build import BuildError
    from .confine import IsolationRequired
    args = parser().parse_args(argv)
    if args.command in ("grade", "grade-batch", "check", "list", "watch", "progress", "autograde", "course",
                        "interview"):
        from . import server
        server.start(_exercises_named(args))   # its torch import runs on another core beside ours
        import torch
        torch.set_num_threads(1)   # the judge's tensors are tiny: threads only add overhead
    for folder in (getattr(args, "submission", None), getattr(args, "submissions", None)):
        if folder and not Path(folder).is_dir():
            _console(stderr=True).print(f"[red]error:[/] submission folder {folder!r} does not exist")
            return 2
    try:
        code = args.fn(args)
    except (CatalogError, BuildError, FileNotFoundError, ValueError, IsolationRequired) as e:
        _console(stderr=True).print(f"[red]error:[/] {e}")
        code = 2
    except KeyboardInterrupt:
        code = 130
    if args.command in _NOTHING_LEFT_TO_FINISH and argv is None:     # the console script, not a caller
        _exit_without_teardown(code)
    return code


# Commands whose every write is complete when they return (results are written atomically, the
# rest goes to the console): after them the interpreter's own teardown -- torch's modules and
# objects, ~0.6 s measured, a quarter of a `mlkata check` -- buys nothing.
_NOTHING_LEFT_TO_FINISH = frozenset({"grade", "grade-batch", "check", "list", "watch", "progress", "hint",
                                     "coverage", "doctor", "interview"})


def _exit_without_teardown(code: int) -> None:
    """Do what exit does that matters -- atexit handlers (multiprocessing's finalizers among
    them), flushing output -- then end the process without tearing the interpreter down."""
    import atexit
    import os
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    sys.exit(main())
