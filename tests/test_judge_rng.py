"""The judge grades a submission's exercises in threads of one process, and those threads share
torch's global random number generator.  So judge-side code (checks, and visible helpers that are
not probes) must take its random draws from generators of its own: one that seeds the global RNG
and then draws can get another thread's numbers between the two -- the references lost a point
that way under load (feed_forward's layer built twice with different weights).  Process-wide
settings (``torch.set_num_threads``, default dtype, ...) are left alone for the same reason.  Probes, and the
helpers they call with the learner's module (``sub``), run in the child, a process of their own."""
import ast
from pathlib import Path

import pytest

from helpers import ROOT

SEEDING = {"manual_seed", "seed"}          # torch.manual_seed, torch.random.manual_seed, torch.seed
# process-wide settings another thread's oracle would run under (thread counts change reductions' rounding)
GLOBAL_SETTINGS = {"set_num_threads", "set_default_dtype", "set_default_device", "use_deterministic_algorithms",
                   "set_flush_denormal"}
FILES = sorted([*ROOT.glob("graders/*/*.py"), *ROOT.glob("catalog/*/*/visible.py")])


def _seeds_global_rng(call: ast.Call) -> bool:
    f = call.func
    return isinstance(f, ast.Attribute) and f.attr in SEEDING | GLOBAL_SETTINGS and \
        ast.unparse(f.value) in ("torch", "torch.random")


def _runs_in_the_child(fn: ast.FunctionDef) -> bool:
    is_probe = any(ast.unparse(d) in ("probe", "checks.probe") for d in fn.decorator_list)
    takes_learner_module = bool(fn.args.args) and fn.args.args[0].arg == "sub"
    return is_probe or takes_learner_module


def judge_side_seeding(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    name = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name
    found = []
    for fn in ast.walk(tree):
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) and not _runs_in_the_child(fn):
            own = [n for n in ast.walk(fn) if isinstance(n, ast.Call) and _seeds_global_rng(n)
                   and not any(n in ast.walk(inner) for inner in fn.body if isinstance(inner, ast.FunctionDef))]
            found += [f"{name}:{n.lineno} in {fn.name}()" for n in own]
    return found


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_judge_side_code_draws_from_its_own_generators(path):
    found = judge_side_seeding(path)
    assert not found, ("judge-side code seeds torch's global RNG or changes a process-wide setting, which the "
                       "judge's threads share; use torch.Generator().manual_seed(s) and pass generator=, and leave "
                       "settings alone: " + "; ".join(found))


def test_the_rule_sees_a_judge_side_seed_and_spares_probes(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("import torch\nfrom mlkata.checks import probe\n\n"
                      "def oracle(seed):\n    torch.manual_seed(seed)\n    return torch.randn(3)\n\n"
                      "@probe\ndef draw(sub, seed):\n    torch.manual_seed(seed)\n    return sub.f()\n\n"
                      "def _helper(sub):\n    torch.random.manual_seed(0)\n\n"
                      "def fast_oracle():\n    torch.set_num_threads(1)\n")
    assert [f.split(" in ")[1] for f in judge_side_seeding(sample)] == ["oracle()", "fast_oracle()"]
