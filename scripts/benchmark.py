"""Benchmark: what grading costs, as ratios to `python -c "import torch"` measured in the same run.

    python scripts/benchmark.py [--repeat 3]

Prints the median wall time of
  * `python -c "import torch"`                         (the floor every torch process pays)
  * `pytest exercises/<area>/test_<one>.py`            (a learner's visible checks, references filled in)
  * `mlkata grade --submission solutions`              (every exercise, hidden graders, sandboxed)
  * `mlkata grade --submission exercises`              (every exercise, untouched stubs)
and each one's ratio to the torch import.  Not a test: numbers only, nothing asserted.
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--exercise", default="fundamentals/gradient_clipping")
    args = ap.parse_args()
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
        ]
        results = [(label, median(cmd, args.repeat, cwd)) for label, cmd, cwd in rows]
    floor = results[0][1]
    print(f"median of {args.repeat} runs each, on {sys.platform} with {__import__('os').cpu_count()} cores")
    for label, seconds in results:
        print(f"  {label:45s} {seconds:6.2f} s   {seconds / floor:5.2f} x import torch")


if __name__ == "__main__":
    main()
