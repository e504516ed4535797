"""Hostile and broken submissions: each scores 0 on the exercise it attacks, with a message that
says what happened, and never changes the score of another exercise of the same submission."""
import hashlib
import os
import shutil
from pathlib import Path

import pytest

from mlkata import catalog, grading
from helpers import ROOT

HOSTILE = ROOT / "tests" / "hostile"
TARGET = "fundamentals/gradient_clipping"
FAST = dict(call_timeout=3.0, budget=60.0)

# file -> words the message must contain
EXPECTED = {
    "sys_exit_at_import.py": "sys.exit(0)",
    "os_exit_at_import.py": "exited with code 0",
    "infinite_loop.py": "timed out",
    "infinite_loop_at_import.py": "timed out",
    "huge_allocation.py": "memory",
    "syntax_error.py": "SyntaxError",
    "missing_package.py": "ModuleNotFoundError",
    # the patched comparisons live in the child; the judge compares in the parent and sees the -1
    "monkeypatch_comparisons.py": "your code produced -1",
    "lying_eq.py": "AnythingObj",
    "read_solutions_relative.py": "no answers found",
    "read_solutions_absolute.py": "sandbox",
    "find_hidden_checks_in_memory.py": "no hidden check in memory",
    "forbidden_call.py": "forbidden call",
    "forbidden_call_hidden.py": "forbidden call",
    "fake_pytest_output.py": "rule:",
    "write_graders.py": "sandbox",
    "kill_the_grader.py": "sandbox",
}


def _digest(folder: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.is_file() and "__pycache__" not in p.parts:
            h.update(str(p).encode() + p.read_bytes())
    return h.hexdigest()


# The hostile file sits beside correct solutions of a few other exercises (a whole catalog would
# only make the test slower, not stronger).
OTHERS = [i for i in ("transformer/attention", "nlp/sampling", "llm/dpo_loss") if i in catalog.load()]


@pytest.fixture(scope="module")
def others():
    """Reference scores of the other exercises, graded once."""
    return {r.id: r.score for r in grading.grade(ROOT / "solutions", OTHERS).exercises}


def test_every_hostile_file_is_covered():
    assert sorted(p.name for p in HOSTILE.glob("*.py")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_hostile_submission_scores_zero_on_its_exercise_only(name, tmp_path, others):
    submission = tmp_path / "submission"
    shutil.copytree(ROOT / "solutions", submission)
    shutil.copyfile(HOSTILE / name, catalog.get(TARGET).submission_file(submission))
    protected = {d: _digest(ROOT / d) for d in ("graders", "solutions", "catalog")}
    before = _digest(submission)
    marker = Path("/tmp/mlkata-hostile-shell-ran")
    marker.unlink(missing_ok=True)

    result = grading.grade(submission, [TARGET, *OTHERS], **FAST)

    by_id = {r.id: r for r in result.exercises}
    hostile = by_id.pop(TARGET)
    assert hostile.score == 0, [r.message for r in hostile.results]
    messages = "\n".join(r.message for r in hostile.results)
    assert EXPECTED[name] in messages, messages
    assert {i: r.score for i, r in by_id.items()} == others
    assert _digest(submission) == before, "grading modified the submission"
    assert {d: _digest(ROOT / d) for d in protected} == protected, "the submission changed protected files"
    assert not marker.exists(), "the submission ran a shell"
    assert os.getpid() > 0   # and we are still alive


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
    import sys
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
