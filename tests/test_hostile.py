"""Hostile and broken submissions (tests/hostile/): each scores 0 on the exercise it attacks, with
a message that says what happened, and changes nothing else.

Every file's header names its target exercise and the words its message must hold twice:
``# expect:`` under full grading (the CLI, every layer), and ``# alone:`` with the toolkit's own
layers switched off (no source policy in the judge, no audit hook in the child) -- so what stops
it there is the kernel (Landlock, seccomp, the unprivileged user) or the dispatcher-level record
of torch calls, which in-process code cannot talk its way past.
"""
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mlkata import catalog, confine, grading
from helpers import ROOT

HOSTILE = ROOT / "tests" / "hostile"
FAST = dict(call_timeout=3.0, budget=60.0)
CANARY_DIR = Path("/tmp/mlkata-hostile-canary")
CANARY_SECRET = "canary-7c1d-the-grader-s-secret"
# Correct solutions of a few other exercises sit beside each hostile file (a whole catalog would only
# make the test slower, not stronger).
OTHERS = [i for i in ("transformer/attention", "nlp/sampling") if i in catalog.load()]
KERNEL = confine.support()
needs_kernel = pytest.mark.skipif(not KERNEL.full, reason=f"kernel layers missing here: {KERNEL.missing}")


def header(path: Path) -> dict[str, str]:
    """The ``# key: value`` lines at the top of a hostile file."""
    fields = {}
    for line in path.read_text().splitlines():
        if not line.startswith("#"):
            break
        m = re.match(r"#\s*(target|expect|alone):\s*(.+)", line)
        if m:
            fields[m.group(1)] = m.group(2).strip()
    return fields


FILES = sorted(HOSTILE.glob("*.py"))
TARGETS = sorted({header(p)["target"] for p in FILES})


def _digest(folder: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.is_file() and "__pycache__" not in p.parts:
            h.update(str(p).encode() + p.read_bytes())
    return h.hexdigest()


RUN_MARK = f"MLKATA_HOSTILE_RUN={os.getpid()}-{time.time_ns()}"


def _processes_of_the_run() -> list[str]:
    """Live processes that inherited the class run's environment mark: the CLI, its fork server,
    workers and grading children -- and anything a submission managed to start."""
    found = []
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            if RUN_MARK.encode() in environ.read_bytes().split(b"\0"):
                found.append(environ.parent.name + " " + (environ.parent / "comm").read_text().strip())
        except OSError:
            continue
    return found


@pytest.fixture(scope="module", autouse=True)
def canary():
    """A secret outside the project, readable by the grader's user: no child may read it."""
    CANARY_DIR.mkdir(exist_ok=True)
    (CANARY_DIR / "secret.txt").write_text(CANARY_SECRET + "\n")
    yield CANARY_DIR / "secret.txt"


def test_every_hostile_file_declares_its_target_and_both_verdicts():
    for path in FILES:
        fields = header(path)
        assert {"target", "expect", "alone"} <= set(fields), f"{path.name}: header lacks {fields}"
        assert fields["target"] in catalog.load(), path.name
    assert len(FILES) >= 40


@pytest.fixture(scope="module")
def class_run(tmp_path_factory):
    """Every hostile file as one student of a class, graded by the real CLI in one `grade-batch`
    run: the graders' own process, fork server and workers are the ones under attack."""
    root = tmp_path_factory.mktemp("hostile-class")
    submissions, out = root / "class", root / "results"
    for path in FILES:
        student = submissions / path.stem
        shutil.copytree(ROOT / "solutions", student)
        shutil.copyfile(path, catalog.get(header(path)["target"]).submission_file(student))
    protected = {d: _digest(ROOT / d) for d in ("graders", "solutions", "catalog")}
    before = _digest(submissions), _digest(CANARY_DIR)
    command = [sys.executable, "-m", "mlkata", "grade-batch", str(submissions), "--out", str(out),
               "--timeout", "3", "--workers", "2"]
    for ex in TARGETS + OTHERS:
        command += ["--exercise", ex]
    started = time.monotonic()
    key, mark = RUN_MARK.split("=")
    run = subprocess.run(command, capture_output=True, text=True, timeout=900, cwd=ROOT,
                         env={**os.environ, key: mark})
    leftovers = _processes_of_the_run()
    for _ in range(20):            # children may need a moment to be reaped
        if not leftovers:
            break
        time.sleep(0.2)
        leftovers = _processes_of_the_run()
    return dict(out=out, run=run, seconds=time.monotonic() - started, leftovers=leftovers,
                protected=protected, changed_protected={d: _digest(ROOT / d) for d in protected},
                before=before, after=(_digest(submissions), _digest(CANARY_DIR)))


@pytest.mark.xdist_group("hostile-class")       # one class run, on one worker
def test_the_class_run_finishes_with_real_json_and_nothing_left_behind(class_run):
    run = class_run["run"]
    assert run.returncode == 0, run.stderr[-3000:]
    assert "FORGED" not in run.stdout + run.stderr
    assert class_run["changed_protected"] == class_run["protected"], "a submission changed graders/solutions/catalog"
    assert class_run["after"] == class_run["before"], "a submission changed the class folder or the canary"
    assert class_run["leftovers"] == [], f"processes outlived the run: {class_run['leftovers']}"
    scores = (class_run["out"] / "scores.csv").read_text()
    assert len(scores.splitlines()) == len(FILES) + 1


@pytest.mark.xdist_group("hostile-class")
@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_hostile_file_scores_zero_on_its_exercise_only(path, class_run):
    fields = header(path)
    result = json.loads((class_run["out"] / f"{path.stem}.json").read_text())
    by_exercise: dict[str, list[dict]] = {}
    for test in result["tests"]:
        by_exercise.setdefault(test["name"].split(" ")[0].rstrip(":"), []).append(test)
    target = by_exercise.pop(fields["target"])
    assert sum(t["score"] for t in target) == 0, [t["output"] for t in target]
    messages = "\n".join(t["output"] for t in target)
    assert fields["expect"] in messages, messages[:3000]
    assert CANARY_SECRET not in json.dumps(result)
    _assert_no_answers_leaked(fields["target"], messages)
    for ex_id, tests in by_exercise.items():        # the other exercises: references, full marks
        assert sum(t["score"] for t in tests) == sum(t["max_score"] for t in tests), (ex_id, tests)


def _assert_no_answers_leaked(exercise_id: str, feedback: str) -> None:
    ex = catalog.get(exercise_id)
    for secret in (ex.grader, ROOT / "solutions" / f"{exercise_id}.py"):
        long_lines = {ln.strip() for ln in secret.read_text().splitlines() if len(ln.strip()) >= 40}
        leaked = [ln for ln in long_lines if ln in feedback]
        assert not leaked, f"lines of {secret.name} reached the feedback: {leaked[:3]}"


@needs_kernel
@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_the_kernel_and_the_runtime_record_stop_it_alone(path, tmp_path):
    """No source policy, no audit hook: what is left must still give 0 and name what happened."""
    fields = header(path)
    ex = catalog.get(fields["target"])
    target = ex.submission_file(tmp_path)
    target.parent.mkdir(parents=True)
    shutil.copyfile(path, target)
    protected = {d: _digest(ROOT / d) for d in ("graders", "solutions", "catalog")}
    result = grading.grade_exercise(ex, str(tmp_path), source_policy=False, audit_hook=False, **FAST)
    assert result.score == 0, [r.message for r in result.results]
    messages = "\n".join(r.message for r in result.results)
    assert fields["alone"] in messages, messages[:3000]
    _assert_no_answers_leaked(ex.id, messages)
    assert {d: _digest(ROOT / d) for d in protected} == protected


def test_the_source_scan_flags_library_calls_not_the_learners_own_names():
    from mlkata.engine import forbidden_in_source
    forbidden = ["torch.nn.functional.scaled_dot_product_attention"]
    own = ('__all__ = ["scaled_dot_product_attention"]\n'
           "def scaled_dot_product_attention(q, k, v):\n    return q\n"
           "class M:\n    def f(self, q):\n        return self.scaled_dot_product_attention(q)\n")
    assert forbidden_in_source(own, forbidden) == []
    for cheat in ("import torch\ntorch.nn.functional.scaled_dot_product_attention(1, 2, 3)\n",
                  "import torch.nn.functional as F\nF.scaled_dot_product_attention\n",
                  "from torch.nn.functional import scaled_dot_product_attention\n",
                  "import torch\ngetattr(torch.nn.functional, 'scaled_dot_product_attention')\n"):
        assert forbidden_in_source(cheat, forbidden) == forbidden, cheat


def test_the_source_scan_resolves_aliases_so_unrelated_names_are_not_hits():
    from mlkata.engine import forbidden_in_source
    forbidden = ["sklearn.preprocessing.normalize", "torch.nn.utils.clip_grad_norm_"]
    fine = ("import torch.nn.functional as F\nF.normalize\nd = {'normalize': 1}\n"
            "from torch import nn\n")
    assert forbidden_in_source(fine, forbidden) == []
    assert forbidden_in_source("from torch import nn\nnn.utils.clip_grad_norm_\n", forbidden) == \
        ["torch.nn.utils.clip_grad_norm_"]
    assert forbidden_in_source("from sklearn.preprocessing import normalize\n", forbidden) == \
        ["sklearn.preprocessing.normalize"]


def test_the_tripwire_sees_aliases_in_modules_imported_after_its_index_was_built():
    """The fork server indexes the forbidden functions' homes before any learner code runs; a
    module that appears later (imported by the submission) must still be searched."""
    import types
    import torch
    from mlkata import engine
    name = "torch.nn.utils.clip_grad_norm_"
    engine.warm_tripwire([name])
    late = types.ModuleType("torch._mlkata_late_alias")
    late.norm = torch.nn.utils.clip_grad_norm_
    sys.modules[late.__name__] = late
    try:
        p = torch.nn.Parameter(torch.ones(3))
        p.grad = torch.ones(3)
        with engine.tripwire([name]) as calls:
            late.norm([p], 1.0)
        assert calls == [name]
        assert late.norm is torch.nn.utils.clip_grad_norm_        # restored on the way out
    finally:
        del sys.modules[late.__name__]


def test_the_docs_count_the_attacks_this_suite_grades():
    """README and docs/security.md say how many attacks prove the claims: the number of files here."""
    import re
    for doc, pattern in (("README.md", r"tests/hostile/` \((\d+) attacks"),
                         ("docs/security.md", r"one file per attack \((\d+) today\)")):
        said = re.search(pattern, (ROOT / doc).read_text())
        assert said and int(said.group(1)) == len(FILES), f"{doc} counts {said and said.group(1)}, " \
                                                          f"tests/hostile holds {len(FILES)}"
