"""`mlkata interview`: it picks what the learner has not done (or a track's next step), times a
short real session while the learner works, counts the hints asked for, runs the hidden graders at
the end, and records the session; `mlkata progress` and its HTML report show the history."""
import io
import json
import os
import queue
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path

import pytest
from rich.console import Console

from mlkata import catalog, grading, interview, progress
from helpers import ROOT

BIN = Path(sys.executable).parent
EXERCISE = "nlp/sampling"


def _record(ex_id: str, day: str, score: float, max_score: float = 10, seconds: float = 600) -> interview.Record:
    ex = catalog.get(ex_id)
    return interview.Record(date=f"{day}T20:00:00", exercise=ex_id, area=ex.area, track=None, minutes=ex.minutes,
                            seconds_used=seconds, hints_used=1, score=score, max_score=max_score,
                            hidden_score=score / 2, hidden_max=max_score / 2, ended="time")


def test_pick_skips_what_was_interviewed_or_touched_and_keeps_to_the_area(tmp_path):
    folder = tmp_path / "exercises"
    shutil.copytree(ROOT / "exercises", folder)
    nlp = [ex for ex in catalog.load().values() if ex.area == "nlp"]
    interviewed, touched = nlp[0], nlp[1]
    shutil.copyfile(touched.solution, touched.submission_file(folder))
    assert interview.untouched(nlp[2], folder) and not interview.untouched(touched, folder)
    history = [_record(interviewed.id, "2026-12-01", 3)]
    rng = random.Random(0)
    picked = {interview.pick(folder, history, area="nlp", rng=rng).id for _ in range(200)}
    assert picked == {ex.id for ex in nlp[2:]}
    with pytest.raises(catalog.CatalogError):
        interview.pick(folder, history, area="no-such-area")


def test_pick_takes_the_next_track_step_without_full_marks(tmp_path):
    track = next(t for t in catalog.tracks().values() if len([i for i in t.exercises if i in catalog.load()]) >= 3)
    first, second, third = [i for i in track.exercises if i in catalog.load()][:3]
    history = [_record(first, "2026-12-01", 10), _record(second, "2026-12-02", 7)]
    assert interview.pick(tmp_path, history, track=track.name).id == second      # not yet at full marks
    history.append(_record(second, "2026-12-03", 10))
    assert interview.pick(tmp_path, history, track=track.name).id == third


def _reader(stream, lines: queue.Queue):
    for line in iter(stream.readline, ""):
        lines.put(line)


def _wait_for(lines: queue.Queue, text: str, seen: list, timeout: float = 120) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.2)
        except queue.Empty:
            continue
        seen.append(line)
        if text in line:
            return True
    return False


def _start(tmp_path: Path, minutes: float):
    shutil.copytree(ROOT / "exercises", tmp_path / "exercises")
    proc = subprocess.Popen([str(BIN / "mlkata"), "interview", "--exercise", EXERCISE, "--minutes", str(minutes)],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "COLUMNS": "200"})
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=_reader, args=(proc.stdout, lines), daemon=True).start()
    return proc, lines


def _history(tmp_path: Path) -> list[dict]:
    return [json.loads(line) for line in (tmp_path / ".mlkata" / "interviews.jsonl").read_text().splitlines()]


def test_a_timed_interview_counts_hints_grades_at_time_out_and_records(tmp_path):
    minutes = 0.25
    proc, lines = _start(tmp_path, minutes)
    seen: list = []
    try:
        assert _wait_for(lines, "left", seen), "".join(seen)                      # the timer shows
        assert any("not implemented yet" in line for line in seen), "".join(seen)
        hint = subprocess.run([str(BIN / "mlkata"), "hint", EXERCISE, "--level", "2"], cwd=tmp_path,
                              capture_output=True, text=True, timeout=120)
        assert "counted" in hint.stdout, hint.stdout
        ex = catalog.get(EXERCISE)
        shutil.copyfile(ex.solution, ex.submission_file(tmp_path / "exercises"))    # the learner saves an answer
        assert _wait_for(lines, "visible checks 5/5", seen), "".join(seen)     # re-run on save
        assert proc.wait(timeout=180) == 0, "".join(seen)
    finally:
        if proc.poll() is None:
            proc.kill()
    time.sleep(0.5)
    while not lines.empty():
        seen.append(lines.get())
    out = "".join(seen)
    assert "time is up" in out and "hidden graders" in out, out
    (record,) = _history(tmp_path)
    full = sum(c.points for c, _ in grading.checks_for(ex))
    assert record["exercise"] == EXERCISE and record["area"] == "nlp" and record["ended"] == "time"
    assert record["score"] == record["max_score"] == full and record["hidden_score"] == record["hidden_max"] > 0
    assert record["hints_used"] == 2 and record["seconds_used"] == minutes * 60
    assert record["date"].startswith(date.today().isoformat())
    assert not (tmp_path / ".mlkata" / interview.ACTIVE).exists()


def test_handing_in_early_grades_what_is_there(tmp_path):
    proc, lines = _start(tmp_path, minutes=5)
    seen: list = []
    try:
        assert _wait_for(lines, "left", seen), "".join(seen)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=180) == 0, "".join(seen)
    finally:
        if proc.poll() is None:
            proc.kill()
    (record,) = _history(tmp_path)
    assert record["ended"] == "handed in" and record["score"] == 0 and record["hints_used"] == 0
    assert 0 < record["seconds_used"] < 5 * 60


def _history_fixture() -> list[interview.Record]:
    nlp = [ex.id for ex in catalog.load().values() if ex.area == "nlp"]
    rl = [ex.id for ex in catalog.load().values() if ex.area == "rl"]
    return [_record(nlp[0], "2026-12-01", 4, seconds=1500), _record(rl[0], "2026-12-02", 10, seconds=900),
            _record(nlp[1], "2026-12-05", 9, seconds=1200)]


def _rows() -> list[progress.Row]:
    return [progress.Row(ex.id, ex.title, ex.area, ex.difficulty, 7, "done" if i == 0 else "todo", "", 3 * (i == 0), 3)
            for i, ex in enumerate(catalog.load().values())]


def test_progress_shows_interview_history_per_area_and_no_points_for_visible_checks():
    console = Console(file=io.StringIO(), width=200, record=True)
    progress.render_terminal(console, _rows(), _history_fixture())
    text = console.export_text()
    assert "points done" not in text and "not graded" in text and "3/" in text
    nlp_line = next(line for line in text.splitlines() if catalog.AREAS["nlp"] in line and "→" in line)
    assert "2" in nlp_line and "65%" in nlp_line and "40% → 90%" in nlp_line    # 2 sessions, mean 65 %, trend
    assert "latest interviews (3 of 3)" in text


def test_html_report_shows_the_interview_history():
    page = progress.render_html(_rows(), _history_fixture())
    assert page.count('<tr class="interview">') == 3 and 'id="history-chart"' in page
    assert "40% → 90%" in page and "not graded" in page
    assert 'id="no-interviews"' in progress.render_html(_rows(), [])
