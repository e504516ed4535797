"""Benchmark: what grading costs, as ratios measured in the same run.  Not a test: nothing asserted.

    python scripts/benchmark.py [--repeat 3] [--students 40] [--saves 10]
                                [--skip-single] [--skip-class] [--skip-nbgrader] [--skip-feedback]

1. Single submission, median wall time and ratio to `python -c "import torch"`:
   `pytest exercises/<one>` (references filled in), `mlkata grade` of the references and of the stubs,
   the same grading *bare* (checks in one process, no sandbox) -- the cost of isolation -- and
   sandboxed without the kernel's confinement, with each child's own report of what confining cost.
2. A synthetic class (references, stubs and buggy variants in turn) on the core exercises with
   `mlkata grade-batch --workers 1` and `--workers 2`: per-submission time, throughput, speed-up.
3. `nbgrader autograde` of one submission of the core notebooks: time per notebook, beside
   `mlkata grade` of the same code.
4. Feedback on save: a cold `mlkata check` (a fresh process: what a learner waits for) beside
   `python -c "import torch"`, and how long `mlkata watch` takes to re-run one exercise's visible
   checks after a save (median over --saves saves; the budget is 0.3 s).
"""
from __future__ import annotations

import argparse
import os
import queue
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def timed(cmd: list[str], cwd: Path = ROOT) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def median(cmd: list[str], repeat: int, cwd: Path = ROOT) -> float:
    return statistics.median(timed(cmd, cwd) for _ in range(repeat))


CORE = ["fundamentals/gradient_clipping", "transformer/attention", "nlp/mlm_masking", "nlp/sampling",
        "nlp/beam_search", "llm/reward_model_loss", "llm/dpo_loss", "llm/ppo_objective"]
# The bare baseline ends as the CLI does, without the interpreter's teardown of torch (~0.6 s),
# so that sandboxed / bare measures the sandbox and nothing else.
BARE = ("import os, sys, torch; torch.set_num_threads(1); from mlkata import grading; "
        "grading.grade(sys.argv[1], sys.argv[2:] or None, isolate=False); sys.stdout.flush(); os._exit(0)")
# Sandboxed, but without the kernel's layers (mlkata/confine.py): what Landlock, seccomp and the
# uid drop add to the sandbox.  The CLI's own order: the server starts before torch is imported here.
UNCONFINED = ("import os, sys; from mlkata import server; server.start(); import torch; "
              "torch.set_num_threads(1); from mlkata import grading; "
              "grading.grade(sys.argv[1], sys.argv[2:] or None, confine=False); sys.stdout.flush(); os._exit(0)")


def single(args) -> None:
    area, name = args.exercise.split("/")
    with tempfile.TemporaryDirectory() as tmp:
        filled = Path(tmp) / "exercises"
        shutil.copytree(ROOT / "exercises", filled)
        shutil.copyfile(ROOT / "solutions" / area / f"{name}.py", filled / area / f"{name}.py")
        rows = [
            ('python -c "import torch"', [sys.executable, "-c", "import torch"], ROOT),
            (f"pytest exercises/{area}/test_{name}.py",
             [str(BIN / "pytest"), "-q", "-p", "no:cacheprovider", f"{filled}/{area}/test_{name}.py"], ROOT),
            ("mlkata grade --submission solutions", [str(BIN / "mlkata"), "grade", "--submission", "solutions"], ROOT),
            ("mlkata grade --submission exercises", [str(BIN / "mlkata"), "grade", "--submission", "exercises"], ROOT),
            ("bare: same checks in one process, no sandbox", [sys.executable, "-c", BARE, "solutions"], ROOT),
            ("sandboxed, no kernel confinement", [sys.executable, "-c", UNCONFINED, "solutions"], ROOT),
        ]
        results = [(label, median(cmd, args.repeat, cwd)) for label, cmd, cwd in rows]
    floor = results[0][1]
    print(f"median of {args.repeat} runs each, on {sys.platform} with {__import__('os').cpu_count()} cores")
    print("1. one submission")
    for label, seconds in results:
        print(f"  {label:47s} {seconds:6.2f} s   {seconds / floor:5.2f} x import torch")
    print(f"  isolation cost: sandboxed / bare grading of the references = {results[2][1] / results[4][1]:.2f} x")
    print(f"  of which the kernel's layers: sandboxed / sandboxed without confinement = "
          f"{results[2][1] / results[5][1]:.2f} x; {_confinement_ms():.1f} ms per child (median)")


def _confinement_ms() -> float:
    """Median time a child spends applying the kernel's layers, from its own reports."""
    code = ("import statistics, sys; from mlkata import grading, sandbox; sandbox.warm_up(); seen = []; "
            "take = sandbox.IsolatedSession._take_confinement; "
            "sandbox.IsolatedSession._take_confinement = lambda self, r: (seen.append(r['seconds']), take(self, r))[1]; "
            "grading.grade('solutions', sys.argv[1:]); print(1000 * statistics.median(seen))")
    out = subprocess.run([sys.executable, "-c", code, *CORE], cwd=ROOT, capture_output=True, text=True)
    return float(out.stdout.strip().splitlines()[-1]) if out.returncode == 0 else float("nan")


def make_class(folder: Path, students: int) -> None:
    """References, stubs and the first buggy variant of each core exercise, in turn."""
    for i in range(students):
        student = folder / f"s{i:03d}"
        for ex_id in CORE:
            area, name = ex_id.split("/")
            kind = i % 3
            src = (ROOT / "solutions" / area / f"{name}.py" if kind == 0 else
                   ROOT / "exercises" / area / f"{name}.py" if kind == 1 else
                   sorted((ROOT / "tests" / "variants" / ex_id).glob("bug_*.py"))[0])
            (student / area).mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, student / area / f"{name}.py")


def bare_class(folder: Path) -> None:
    """(Run in a fresh process.)  Print the seconds to grade every student of ``folder`` on the core
    exercises in this one process, without the sandbox, after one warm-up submission."""
    import torch
    torch.set_num_threads(1)
    from mlkata import grading
    students = sorted(folder.iterdir())
    grading.grade(students[0], CORE, isolate=False)
    start = time.perf_counter()
    for student in students:
        grading.grade(student, CORE, isolate=False)
    print(time.perf_counter() - start)


def klass(args) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "class"
        make_class(folder, args.students)
        sub = folder / "s000"
        ex_flags = [a for e in CORE for a in ("--exercise", e)]
        bare = median([sys.executable, "-c", BARE, str(sub), *CORE], args.repeat)
        one = median([str(BIN / "mlkata"), "grade", "--submission", str(sub), *ex_flags], args.repeat)
        warm = float(subprocess.run([sys.executable, __file__, "--bare-class", str(folder)], check=True,
                                    capture_output=True, text=True).stdout)
        runs = {1: [], 2: []}
        for rep in range(args.repeat):          # interleaved, so drift in the machine's speed hits both
            for workers in runs:
                out = Path(tmp) / f"out{workers}-{rep}"
                runs[workers].append(timed([str(BIN / "mlkata"), "grade-batch", str(folder), "--out", str(out),
                                            "--workers", str(workers), *ex_flags]))
        times = {w: statistics.median(ts) for w, ts in runs.items()}
    n = args.students
    print(f"2. a class of {n} submissions x {len(CORE)} core exercises (references, stubs, bugs in turn); "
          f"grade-batch: median of {args.repeat} runs")
    print(f"  bare: one submission's checks in a fresh process, no sandbox   {bare:6.2f} s")
    print(f"  mlkata grade of one submission (sandboxed)                   {one:6.2f} s   {one / bare:5.2f} x bare")
    print(f"  bare, the whole class in one warm process: {warm:6.2f} s, {warm / n:5.2f} s per submission")
    for w, t in times.items():
        print(f"  grade-batch --workers {w}: {t:6.2f} s, {t / n:5.2f} s per submission "
              f"({t / n / bare:4.2f} x bare fresh, {t / warm:4.2f} x bare warm), {n / t * 60:6.1f} submissions/min")
    print(f"  speed-up 1 -> 2 workers: {times[1] / times[2]:.2f} x")


def nbgrader_vs_mlkata(args) -> None:
    sys.path.insert(0, str(ROOT / "tests"))
    from course_helpers import make_course, submit
    from mlkata import course
    with tempfile.TemporaryDirectory() as tmp:
        folder = make_course(Path(tmp) / "course", "core", CORE)
        submit(folder, "core", "alice", {e: ROOT / "solutions" / f"{e}.py" for e in CORE})
        api = course.nbgrader_api(folder)
        start = time.perf_counter()
        api.autograde("core", "alice", force=True, create=True)
        nbg = time.perf_counter() - start
    one = median([str(BIN / "mlkata"), "grade", "--submission", str(ROOT / "solutions"),
                  *[a for e in CORE for a in ("--exercise", e)]], args.repeat)
    print(f"3. nbgrader autograde vs mlkata grade, {len(CORE)} core notebooks of one student")
    print(f"  nbgrader autograde: {nbg:6.2f} s, {nbg / len(CORE):5.2f} s per notebook")
    print(f"  mlkata grade (same code):  {one:6.2f} s   nbgrader is {nbg / one:5.2f} x slower")


WATCH_BUDGET = 0.3     # seconds from a save to the re-run's verdict on screen


def _lines_of(proc) -> queue.Queue:
    lines: queue.Queue = queue.Queue()

    def read():
        for line in iter(proc.stdout.readline, ""):
            lines.put((time.perf_counter(), line))
    threading.Thread(target=read, daemon=True).start()
    return lines


def _until(lines: queue.Queue, text: str, timeout: float = 120) -> float:
    """The time the first line holding ``text`` arrived."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        try:
            at, line = lines.get(timeout=0.5)
        except queue.Empty:
            continue
        if text in line:
            return at
    raise TimeoutError(f"no line with {text!r} within {timeout} s")


def watch_latency(exercise: str, folder: Path, saves: int) -> list[float]:
    """Seconds from each save of the (still unfinished) exercise to watch's next "watching" line,
    which it prints once the re-run's verdict is on screen."""
    area, name = exercise.split("/")
    path = folder / area / f"{name}.py"
    stub = path.read_text()
    proc = subprocess.Popen([str(BIN / "mlkata"), "watch", exercise, "--submission", str(folder)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "COLUMNS": "200"})
    lines = _lines_of(proc)
    try:
        _until(lines, "watching")
        took = []
        for i in range(saves):
            time.sleep(0.5)                                  # the learner types; nothing runs meanwhile
            saved = time.perf_counter()
            path.write_text(stub + f"\n# edit {i}\n")
            took.append(_until(lines, "watching") - saved)
        return took
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def feedback(args) -> None:
    area, name = args.exercise.split("/")
    with tempfile.TemporaryDirectory() as tmp:
        filled = Path(tmp) / "filled"
        shutil.copytree(ROOT / "exercises", filled)
        shutil.copyfile(ROOT / "solutions" / area / f"{name}.py", filled / area / f"{name}.py")
        runs = {"torch": [], "check": []}
        for _ in range(args.repeat):         # interleaved, so drift in the machine's speed hits both
            runs["torch"].append(timed([sys.executable, "-c", "import torch"]))
            runs["check"].append(timed([str(BIN / "mlkata"), "check", args.exercise, "--submission", str(filled)]))
        floor, check = statistics.median(runs["torch"]), statistics.median(runs["check"])
        unfinished = Path(tmp) / "unfinished"
        shutil.copytree(ROOT / "exercises", unfinished)
        took = watch_latency(args.exercise, unfinished, args.saves)
    rerun = statistics.median(took)
    print(f"4. feedback on save ({args.exercise}); median of {args.repeat} cold runs, {args.saves} saves")
    torch_label = 'python -c "import torch"'
    print(f"  {torch_label:47s} {floor:6.2f} s    1.00 x import torch")
    print(f"  {'mlkata check (cold, a fresh process)':47s} {check:6.2f} s   {check / floor:5.2f} x import torch")
    print(f"  {'mlkata watch: save -> verdict on screen':47s} {rerun:6.3f} s   {rerun / floor:5.3f} x import torch"
          f"   (slowest {max(took):.3f} s; budget {WATCH_BUDGET} s: {'ok' if rerun < WATCH_BUDGET else 'OVER'})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--exercise", default="fundamentals/gradient_clipping")
    ap.add_argument("--students", type=int, default=40)
    ap.add_argument("--skip-single", action="store_true")
    ap.add_argument("--skip-class", action="store_true")
    ap.add_argument("--skip-nbgrader", action="store_true")
    ap.add_argument("--skip-feedback", action="store_true")
    ap.add_argument("--saves", type=int, default=10, help="saves timed under mlkata watch (default 10)")
    ap.add_argument("--bare-class", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.bare_class:
        return bare_class(args.bare_class)
    if not args.skip_single:
        single(args)
    if not args.skip_class:
        klass(args)
    if not args.skip_nbgrader:
        nbgrader_vs_mlkata(args)
    if not args.skip_feedback:
        feedback(args)


if __name__ == "__main__":
    main()
