"""A sandboxed child never outlives its grader: killing `mlkata grade` (SIGKILL, no cleanup) must
not leave an endless loop burning a core, whichever way the grader dies."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mlkata import catalog

EXERCISE = "fundamentals/gradient_clipping"

# Tells the test its pid, then spins.  The child's folder may be a tmpfs only it sees; its output
# goes to the work folder's .output.log, which the grader (and so this test) reads.
SPINNER = """
import os
print("spinner pid", os.getpid(), flush=True)
while True:
    pass
"""


def _spinner_pids(work: Path) -> list[int]:
    pids = []
    for log in work.glob("mlkata-*/.output.log"):
        try:
            lines = log.read_text().splitlines()
        except OSError:
            continue
        pids += [int(line.split()[-1]) for line in lines if line.startswith("spinner pid ")]
    return pids


def _alive(pid: int) -> bool:
    """Running or sleeping; a zombie (dead, not yet reaped) counts as gone."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def _wait_for(predicate, timeout: float, step: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return None


def _command(kind: str, tmp_path: Path) -> list[str]:
    """`mlkata grade` of one submission, or `mlkata grade-batch` of a class of two on two workers
    (whose pool workers judge, and must die with the grader too)."""
    folder = tmp_path / "class"
    for student in ("a", "b"):
        target = catalog.get(EXERCISE).submission_file(folder / student)
        target.parent.mkdir(parents=True)
        target.write_text(SPINNER)
    common = ["--exercise", EXERCISE, "--timeout", "300"]
    if kind == "grade":
        return [sys.executable, "-m", "mlkata", "grade", "--submission", str(folder / "a"), *common]
    return [sys.executable, "-m", "mlkata", "grade-batch", str(folder), "--out", str(tmp_path / "out"),
            "--workers", "2", *common]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc and PR_SET_PDEATHSIG")
@pytest.mark.parametrize("kill", ["the grader alone", "the grader's process group"])
@pytest.mark.parametrize("kind", ["grade", "grade-batch"])
def test_a_spinning_child_dies_with_its_killed_grader(tmp_path, kind, kill):
    work = tmp_path / "tmp"        # the children's work folders are made under TMPDIR
    work.mkdir()
    log = tmp_path / "grader.log"
    with open(log, "w") as out:
        grader = subprocess.Popen(_command(kind, tmp_path), env={**os.environ, "TMPDIR": str(work)},
                                  start_new_session=True, stdout=out, stderr=subprocess.STDOUT)
    spinners: list[int] = []
    try:
        started = _wait_for(lambda: _spinner_pids(work), timeout=120)
        assert started, f"the spinning submission never started; the grader said:\n{log.read_text()}"
        time.sleep(1.0)        # let the second student of a batch start spinning too
        spinners = _spinner_pids(work)
        assert all(_alive(pid) for pid in spinners)
        if kill == "the grader alone":
            os.kill(grader.pid, signal.SIGKILL)
        else:
            os.killpg(grader.pid, signal.SIGKILL)
        grader.wait(timeout=10)
        all_gone = _wait_for(lambda: not any(_alive(pid) for pid in spinners), timeout=20)
        assert all_gone, f"sandboxed children {[p for p in spinners if _alive(p)]} still run after " \
                          f"their grader ({kind}) was killed ({kill})"
    finally:
        for pid in spinners:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        try:
            os.killpg(grader.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
