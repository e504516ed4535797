"""A sandboxed child gets a hidden grader's probes and nothing of its checks."""
import ast
import textwrap

import pytest

from mlkata import catalog, grading, probe_source, sandbox
from mlkata.checks import Check, Probe

SOURCE = textwrap.dedent('''
    import math
    from mlkata.checks import check, probe

    SCALE = 3.0                      # used by a helper of a probe: kept
    EXPECTED = 42.0                  # used by a check only: dropped


    def _inputs(n, agrees=None):     # a parameter named like a check must not pull the check in
        return [SCALE * i for i in range(n)] if agrees is None else agrees


    @probe
    def outputs(sub, n):
        return sub.f(_inputs(n))


    def _oracle(xs):                 # what a learner would love to call
        return sum(xs) + EXPECTED


    @check("matches the oracle")
    def agrees(run):
        assert run(outputs, 3) == _oracle(_inputs(3))
''')


def _kept_names(source: str) -> set[str]:
    tree = probe_source.prune(ast.parse(source))
    return {n.id for s in tree.body for n in ast.walk(s) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)} | \
        {s.name for s in tree.body if isinstance(s, (ast.FunctionDef, ast.ClassDef))}


def test_probes_keep_what_they_use_and_lose_the_checks():
    kept = _kept_names(SOURCE)
    assert {"SCALE", "_inputs", "outputs"} <= kept
    assert not kept & {"EXPECTED", "_oracle", "agrees"}


def test_the_pruned_probe_still_runs(tmp_path):
    path = tmp_path / "grader.py"
    path.write_text(SOURCE)
    module = probe_source.load(str(path), "mlkata_test_pruned_grader")
    learner = type("Learner", (), {"f": staticmethod(sum)})
    assert module.outputs.fn(learner, 3) == 9.0
    assert not hasattr(module, "agrees") and not hasattr(module, "_oracle")


@pytest.mark.parametrize("ex", catalog.select(None), ids=lambda e: e.id)
def test_every_grader_keeps_all_its_probes_and_none_of_its_checks(ex):
    full = grading.check_module("hidden", ex)
    pruned = probe_source.load(str(ex.grader), sandbox.probe_module_name("hidden", ex.id) + "__pruned")
    # (a grader may also hold probes of the visible module, which the child loads whole)
    probes = {k for k, v in vars(full).items() if isinstance(v, Probe) and v.fn.__module__ == full.__name__}
    assert {k for k, v in vars(pruned).items() if isinstance(v, Probe)} >= probes
    assert not [k for k, v in vars(pruned).items() if isinstance(v, Check)]
