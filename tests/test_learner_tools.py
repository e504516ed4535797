"""watch, progress and its HTML report (opened in a real headless Chromium), hint."""
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from mlkata import catalog, grading, progress
from helpers import ROOT, VARIANTS

BIN = Path(sys.executable).parent
ARTIFACTS = ROOT / "artifacts"
CHROMIUM = "/usr/bin/chromium"
FIRST = next(iter(catalog.load()))


def learner_folder(tmp_path: Path) -> Path:
    """A learner's exercises/: the first exercise solved, the second attempted with a bug."""
    folder = tmp_path / "exercises"
    shutil.copytree(ROOT / "exercises", folder)
    ids = list(catalog.load())
    shutil.copyfile(catalog.get(ids[0]).solution, catalog.get(ids[0]).submission_file(folder))
    second = catalog.get(ids[1])
    for bug in sorted((VARIANTS / ids[1]).glob("bug_*.py")):     # one that the visible checks catch
        shutil.copyfile(bug, second.submission_file(folder))
        if grading.grade_exercise(second, str(folder), hidden=False).status == "failing":
            return folder
    raise AssertionError(f"no buggy variant of {ids[1]} fails a visible check")


def test_progress_rows_say_done_attempted_todo(tmp_path):
    rows = progress.collect(str(learner_folder(tmp_path)))
    assert [r.status for r in rows[:2]] == ["done", "attempted"]
    assert all(r.status == "todo" for r in rows[2:])
    assert "rule:" in rows[1].feedback or ":" in rows[1].feedback


def test_html_report_opens_in_chromium_with_chart_and_table(tmp_path):
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("Debian's chromium is missing: .ci/run installs it")
        pytest.skip("needs Debian's chromium (apt-get install -y chromium)")
    playwright = pytest.importorskip("playwright.sync_api")
    report = tmp_path / "report.html"
    out = subprocess.run([str(BIN / "mlkata"), "progress", "--submission", str(learner_folder(tmp_path)),
                          "--html", str(report)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.goto(report.as_uri(), timeout=30_000)
            width = page.eval_on_selector("#chart", "img => img.complete ? img.naturalWidth : 0")
            rows = page.locator("#exercises tbody tr")
            statuses = [rows.nth(i).locator(".status").inner_text() for i in range(rows.count())]
            summary = page.inner_text("#summary")
            tracks = page.locator("#tracks tbody tr").count()
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "progress-report.png"), full_page=True)
        finally:
            browser.close()
    assert width > 100, "the chart image did not render"
    assert len(statuses) == len(catalog.load())
    assert statuses[:2] == ["done", "attempted"] and "1 of" in summary
    assert tracks == len(catalog.tracks())


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


def test_watch_reruns_on_save_moves_on_when_passing_and_quits_on_ctrl_c(tmp_path):
    folder = tmp_path / "exercises"
    shutil.copytree(ROOT / "exercises", folder)
    ex = catalog.get(FIRST)
    proc = subprocess.Popen([str(BIN / "mlkata"), "watch", FIRST, "--submission", str(folder)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "COLUMNS": "200"})
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=_reader, args=(proc.stdout, lines), daemon=True).start()
    seen: list = []
    try:
        assert _wait_for(lines, "watching", seen), "".join(seen)
        assert any("not implemented yet" in l for l in seen)
        shutil.copyfile(ex.solution, ex.submission_file(folder))          # the learner saves a solution
        assert _wait_for(lines, "visible checks passed", seen), "".join(seen)
        assert _wait_for(lines, "next:", seen), "".join(seen)
        assert _wait_for(lines, "watching", seen), "".join(seen)          # now on the next exercise
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
        assert _wait_for(lines, "bye", seen, timeout=5)
    finally:
        if proc.poll() is None:
            proc.kill()


def _rows(status: dict[str, str]) -> list[progress.Row]:
    return [progress.Row(ex.id, ex.title, ex.area, ex.difficulty, 1, status.get(ex.id, "todo"), "")
            for ex in catalog.load().values()]


def test_progress_follows_each_track_in_order_and_names_the_next_step():
    track = next(iter(catalog.tracks().values()))
    first, second, *rest = track.exercises
    tracks = {t.name: t for t in progress.by_track(_rows({first: "done", second: "attempted"}))}
    assert tracks[track.name].steps == [(first, "done"), (second, "attempted")] + [(i, "todo") for i in rest]
    assert tracks[track.name].done == 1 and tracks[track.name].next == second
    assert set(tracks) == set(catalog.tracks())
    finished = progress.by_track(_rows({i: "done" for i in track.exercises}))
    assert next(t for t in finished if t.name == track.name).next is None


def test_html_report_lists_the_tracks_with_each_steps_status():
    track = next(iter(catalog.tracks().values()))
    page = progress.render_html(_rows({track.exercises[0]: "done"}))
    row = page.split(f'<tr id="track-{track.name}">')[1].split("</tr>")[0]
    assert f'<li class="done"><code>{track.exercises[0]}</code></li>' in row
    assert f'<td class="next"><code>{track.exercises[1]}</code></td>' in row
    assert page.count('<tr id="track-') == len(catalog.tracks())
