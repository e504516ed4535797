"""``mlkata interview``: a timed mock interview, graded for real.

    mlkata interview [--area A] [--track T] [--exercise ID] [--minutes M]

1. Picks an exercise: the next step of ``--track`` (the first one without a full-marks interview),
   else one you have neither touched (your file is still the stub) nor interviewed on, at random
   (``--area`` narrows the draw, ``--exercise`` names it).
2. Starts a visible timer (the exercise's own estimate unless ``--minutes``) and re-runs the visible
   checks each time you save the file, as ``mlkata watch`` does; ``mlkata check`` and
   ``mlkata hint`` work beside it in another terminal (hints asked for are counted).
3. When time is up, or when you hand in early (Ctrl-C), runs the hidden graders (sandboxed, as
   ``mlkata grade``) and appends a record -- date, exercise, time used, hints used, score -- to
   ``.mlkata/interviews.jsonl``, which ``mlkata progress`` and its HTML report show as a history.
"""
from __future__ import annotations

import json
import os
import random
import time
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from pathlib import Path

from rich.markup import escape

from . import catalog, grading

HISTORY = Path(".mlkata") / "interviews.jsonl"     # relative to where mlkata runs, like exercises/
ACTIVE = "interview-active.json"                    # beside the history while an interview runs


@dataclass
class Record:
    """One interview, as the history keeps it."""

    date: str                # when it started, ISO 8601 (local time, to the second)
    exercise: str
    area: str
    track: str | None
    minutes: float           # the time allowed
    seconds_used: float
    hints_used: int          # the highest hint level asked for during the interview
    score: float             # the graded run: visible and hidden checks, as `mlkata grade`
    max_score: float
    hidden_score: float      # the hidden checks alone
    hidden_max: float
    ended: str               # "time" | "handed in"

    @property
    def fraction(self) -> float:
        return self.score / self.max_score if self.max_score else 0.0

    @property
    def day(self) -> str:
        return self.date[:10]


def history_path(path: str | os.PathLike | None = None) -> Path:
    """``path``, else $MLKATA_HISTORY, else .mlkata/interviews.jsonl (where mlkata runs)."""
    return Path(path or os.environ.get("MLKATA_HISTORY") or HISTORY)


def load_history(path: str | os.PathLike | None = None) -> list[Record]:
    """Every interview recorded at ``path``, oldest first; lines that do not read are skipped."""
    path = history_path(path)
    if not path.exists():
        return []
    names = {f.name for f in fields(Record)}
    records = []
    for line in path.read_text().splitlines():
        try:
            data = json.loads(line)
            records.append(Record(**{k: v for k, v in data.items() if k in names}))
        except (ValueError, TypeError):
            continue
    return records


def append_record(record: Record, path: str | os.PathLike | None = None) -> Path:
    path = history_path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as f:
        f.write(json.dumps(asdict(record)) + "\n")
    return path


# --------------------------------------------------------------------------------------------
# Choosing the exercise
# --------------------------------------------------------------------------------------------

def untouched(ex: catalog.Exercise, submission: str | os.PathLike) -> bool:
    """The learner's file is still the stub ``mlkata build`` wrote (or is missing)."""
    from .build import stub
    path = ex.submission_file(submission)
    return not path.exists() or path.read_text() == stub(ex)[1]


def pick(submission: str | os.PathLike, history: list[Record], *, area: str | None = None,
         track: str | None = None, exercise: str | None = None, rng: random.Random | None = None
         ) -> catalog.Exercise:
    """The exercise of the next interview (see the module docstring); CatalogError if none is left."""
    if exercise:
        return catalog.get(exercise)
    written = catalog.load()
    if track:
        solved = {r.exercise for r in history if r.max_score and r.score == r.max_score}
        steps = [i for i in catalog.track(track).exercises if i in written]
        nxt = next((i for i in steps if i not in solved), None)
        if nxt is None:
            raise catalog.CatalogError(f"track {track!r} is finished: every step has a full-marks interview")
        return written[nxt]
    if area and area not in catalog.AREAS:
        raise catalog.CatalogError(f"unknown area {area!r}; areas: {', '.join(catalog.AREAS)}")
    seen = {r.exercise for r in history}
    pool = [ex for ex in written.values() if (not area or ex.area == area) and ex.id not in seen]
    fresh = [ex for ex in pool if untouched(ex, submission)]
    if not (fresh or pool):
        raise catalog.CatalogError("no exercise left that you have not interviewed on"
                                   + (f" in {area}" if area else "") + " (--exercise ID picks one)")
    return (rng or random.Random()).choice(fresh or pool)


# --------------------------------------------------------------------------------------------
# Hints asked for while an interview runs (`mlkata hint` in another terminal)
# --------------------------------------------------------------------------------------------

def _active_path(history: str | os.PathLike | None) -> Path:
    return history_path(history).parent / ACTIVE


def note_hint(exercise_id: str, level: int, history: str | os.PathLike | None = None) -> bool:
    """Count a hint if an interview on ``exercise_id`` is running; True when counted."""
    path = _active_path(history)
    try:
        active = json.loads(path.read_text())
    except (OSError, ValueError):
        return False
    if active.get("exercise") != exercise_id:
        return False
    active["hints_used"] = max(active.get("hints_used", 0), level)
    path.write_text(json.dumps(active))
    return True


# --------------------------------------------------------------------------------------------
# The interview
# --------------------------------------------------------------------------------------------

def _clock(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    return f"{seconds // 60:02d}:{seconds % 60:02d}"


def _snapshot(path: Path):
    return (path.stat().st_mtime_ns, path.stat().st_size) if path.exists() else None


def _show_visible(console, res) -> str:
    """Print the visible checks' results; returns a one-line summary for the timer."""
    for r in res.results:
        mark = "[green]✓[/]" if r.passed else ("[yellow]·[/]" if r.status == "todo" else "[red]✗[/]")
        console.print(f" {mark} {escape(r.title)}")
        if not r.passed:
            console.print("     " + r.message.splitlines()[0], style="dim", markup=False)
    passed = sum(r.passed for r in res.results)
    return f"visible checks {passed}/{len(res.results)}"


def run(ex: catalog.Exercise, submission: str | os.PathLike, *, minutes: float, track: str | None = None,
        history: str | os.PathLike | None = None, console=None) -> Record:
    """Hold the interview on ``ex`` (see the module docstring) and record it."""
    from rich.console import Console
    from watchfiles import watch
    console = console or Console(highlight=False)
    submission = str(Path(submission).resolve())
    file = ex.submission_file(submission)
    active = _active_path(history)
    active.parent.mkdir(parents=True, exist_ok=True)
    active.write_text(json.dumps({"exercise": ex.id, "hints_used": 0}))
    started_at = datetime.now().isoformat(timespec="seconds")
    start = time.monotonic()
    deadline = start + minutes * 60
    console.rule(f"[bold]interview: {ex.id}[/] · {escape(ex.title)} · {ex.difficulty}")
    console.print(f"You have [bold]{_clock(minutes * 60)}[/]. Write your answer in {file}; the visible checks "
                  f"re-run on every save. Hints count: mlkata hint {ex.id}. Ctrl-C hands in early.")
    ended = "time"
    try:
        with _Timer(console, deadline) as timer:
            timer.summary = _rerun(console, ex, submission)
            snapshot = _snapshot(file)
            for _ in watch(file.parent, debounce=200, step=50, yield_on_timeout=True, rust_timeout=1000):
                if timer.left() <= 0:
                    break
                if _snapshot(file) != snapshot:
                    snapshot = _snapshot(file)
                    timer.summary = _rerun(console, ex, submission)
                timer.tick()
    except KeyboardInterrupt:
        ended = "handed in"
    used = min(time.monotonic() - start, minutes * 60)
    console.print(f"[bold]{'time is up' if ended == 'time' else 'handed in'}[/] after {_clock(used)}: "
                  "running the hidden graders ...")
    result = grading.grade_exercise(ex, submission, hidden=True)
    hints = _hints_used(active)
    active.unlink(missing_ok=True)
    hidden = [r for r in result.results if r.hidden]
    record = Record(date=started_at, exercise=ex.id, area=ex.area, track=track, minutes=minutes,
                    seconds_used=round(used, 1), hints_used=hints, score=result.score, max_score=result.max_score,
                    hidden_score=sum(r.score for r in hidden), hidden_max=sum(r.points for r in hidden), ended=ended)
    path = append_record(record, history)
    _report(console, record, result, path)
    return record


class _Timer:
    """The countdown: a status line that updates every second in a terminal; elsewhere (a log, a
    test) a line every minute, then every 10 s, then every second."""

    def __init__(self, console, deadline: float):
        self.console, self.deadline, self.summary = console, deadline, ""
        self.status = None
        self.last = None

    def left(self) -> float:
        return self.deadline - time.monotonic()

    def __enter__(self):
        if self.console.is_terminal:
            self.status = self.console.status(self._text())
            self.status.__enter__()
        return self

    def __exit__(self, *exc):
        if self.status is not None:
            self.status.__exit__(*exc)
        return False

    def _text(self) -> str:
        return f"[bold]⏱ {_clock(self.left())} left[/] · {self.summary} · Ctrl-C hands in"

    def tick(self) -> None:
        if self.status is not None:
            self.status.update(self._text())
            return
        left = self.left()
        mark = int(left) // (60 if left > 120 else 10 if left > 20 else 1)
        if mark != self.last:
            self.last = mark
            self.console.print(self._text())


def _rerun(console, ex, submission) -> str:
    return _show_visible(console, grading.grade_exercise(ex, submission, hidden=False))


def _hints_used(active: Path) -> int:
    try:
        return int(json.loads(active.read_text()).get("hints_used", 0))
    except (OSError, ValueError):
        return 0


def _report(console, record: Record, result, path: Path) -> None:
    style = "green" if record.score == record.max_score else "yellow" if record.score else "red"
    console.print(f"[bold {style}]{record.score:g}/{record.max_score:g}[/] for {record.exercise} "
                  f"(hidden checks {record.hidden_score:g}/{record.hidden_max:g}) in {_clock(record.seconds_used)} "
                  f"of {_clock(record.minutes * 60)}, {record.hints_used} hint(s)")
    for r in result.results:
        if not r.passed:
            tag = "hidden" if r.hidden else "visible"
            console.print(f"  [red]✗[/] {escape(r.title)} [dim]({tag}, {r.points:g} pt)[/]")
    console.print(f"[dim]recorded in {path}; your history: mlkata progress[/]")
