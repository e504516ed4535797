"""Nothing for nothing: do-nothing submissions score exactly 0, check by check.

For every exercise of the catalog (new ones included, automatically), :mod:`mlkata.nulls`
writes do-nothing submissions from the reference -- every function returns None, its first
argument, zeros like its first tensor, or zeros / ones / a constant / random values of the
right shape, while ``__init__`` is the reference's (modules have their parameters, optimizers
their state) -- and each must score 0.  A leak names the null and every check that paid it.

Honest partial solutions keep their credit: a learner who implemented one unit (a function or
a class) of several keeps that unit's points.

Null submissions are graded in-process (``isolate=False``), ~3x faster than in a sandboxed
child; ``test_in_process_grading_scores_nulls_like_the_sandbox`` shows the two paths agree.
"""
from __future__ import annotations

import pytest

from mlkata import catalog, engine, nulls

EXERCISES = list(catalog.load())

# A null refused before its functions run proves nothing about the checks: the test fails then.
NOT_GRADED = tuple(engine._KIND_PREFIX[k] for k in ("syntax", "import", "missing", "sandbox")) + (
    "not allowed in a graded submission", "forbidden call")


def _leaks(ex, families=nulls.FAMILIES, **options) -> list[str]:
    found = []
    for strategy, keep_init in families:
        result = nulls.grade_source(ex, nulls.null_source(ex, strategy, keep_init), **options)
        label = strategy + ("" if keep_init else ", __init__ does nothing too")
        refused = {r.message.split("\n")[0][:300] for r in result.results if r.message.startswith(NOT_GRADED)}
        if refused:
            found.append(f"null '{label}' was not graded at all: {'; '.join(sorted(refused))}")
        crashed = [r.name for r in result.results if r.status == "error"]
        if crashed:
            found.append(f"null '{label}': a check crashed instead of failing: {', '.join(crashed)}")
        if result.score:
            found.append(f"null '{label}' ({nulls.STRATEGIES[strategy]}) scored "
                         f"{result.score:g}/{result.max_score:g}: {', '.join(nulls.scoring_checks(result))}")
    return found


@pytest.mark.parametrize("exercise_id", EXERCISES)
def test_null_submissions_score_exactly_zero(exercise_id):
    leaks = _leaks(catalog.get(exercise_id), isolate=False)
    assert not leaks, f"{exercise_id}: do-nothing submissions earned points:\n" + "\n".join(leaks)


@pytest.mark.parametrize("exercise_id", ["fundamentals/gradient_clipping", "optim/adam", "coding/knn"])
def test_in_process_grading_scores_nulls_like_the_sandbox(exercise_id):
    """The fast path of the test above gives every null the same per-check verdicts as the
    sandboxed grading path that `mlkata grade` uses."""
    ex = catalog.get(exercise_id)
    for strategy, keep_init in nulls.FAMILIES:
        source = nulls.null_source(ex, strategy, keep_init)
        local = nulls.grade_source(ex, source, isolate=False)
        isolated = nulls.grade_source(ex, source, isolate=True)
        assert [(r.name, r.score) for r in local.results] == [(r.name, r.score) for r in isolated.results], strategy


def test_a_null_changes_nothing_and_has_the_right_shape():
    """The generator itself: a shaped null returns the reference's structure with other values,
    and never changes its arguments (an in-place function does nothing)."""
    ex = catalog.get("fundamentals/gradient_clipping")
    namespace: dict = {}
    exec(compile(nulls.null_source(ex, "ones"), "null", "exec"), namespace)   # noqa: S102 - our own source
    import torch
    p = torch.zeros(3, requires_grad=True)
    p.grad = torch.tensor([30.0, 40.0, 0.0])
    total = namespace["clip_grad_norm_"]([p], 1.0)
    assert torch.equal(p.grad, torch.tensor([30.0, 40.0, 0.0]))          # not clipped
    assert isinstance(total, torch.Tensor) and total.shape == () and float(total) == 1.0


# --------------------------------------------------------------------------------------------
# Partial credit survives: one unit implemented keeps its points
# --------------------------------------------------------------------------------------------

# (exercise, the unit implemented alone, the fewest points it must keep)
PARTIAL = [
    ("fundamentals/gradient_clipping", "clip_grad_value_", 2),
    ("fundamentals/gradient_clipping", "clip_grad_norm_", 10),
    ("coding/softmax_cross_entropy", "softmax", 1),
    ("llm/value_loss", "value_loss", 1),
    ("rl/discounted_returns", "discounted_returns", 1),
    ("vision/iou_nms", "box_iou", 1),
    ("nlp/sampling", "top_k_filter", 1),
    ("transformer/masks", "causal_mask", 1),
]


@pytest.mark.parametrize("exercise_id,unit,at_least", PARTIAL, ids=lambda v: str(v))
def test_one_implemented_unit_keeps_its_points(exercise_id, unit, at_least):
    ex = catalog.get(exercise_id)
    result = nulls.grade_source(ex, nulls.partial_source(ex, {unit}), isolate=False)
    assert at_least <= result.score < result.max_score, \
        f"{exercise_id} with only {unit} implemented scored {result.score:g}/{result.max_score:g}"


# --------------------------------------------------------------------------------------------
# Stubs are consistent: a module stub can be constructed before its __init__ is written
# --------------------------------------------------------------------------------------------

def _module_classes_missing_super_init(source: str) -> list[str]:
    """Classes deriving from nn.Module whose __init__ does not call super().__init__() as given code."""
    import ast
    missing = []
    for node in ast.parse(source).body:
        if not isinstance(node, ast.ClassDef) or not any(ast.unparse(b).endswith("Module") for b in node.bases):
            continue
        init = next((f for f in node.body if isinstance(f, ast.FunctionDef) and f.name == "__init__"), None)
        calls = [] if init is None else [ast.unparse(c.func) for c in ast.walk(init) if isinstance(c, ast.Call)]
        if init is not None and "super().__init__" not in calls:
            missing.append(node.name)
    return missing


@pytest.mark.parametrize("exercise_id", EXERCISES)
def test_module_stubs_call_super_init(exercise_id):
    """Every nn.Module stub keeps ``super().__init__()`` outside the solution region, as given code,
    so that the stubs of all module exercises start the same way."""
    ex = catalog.get(exercise_id)
    missing = _module_classes_missing_super_init(ex.stub.read_text())
    assert not missing, f"{exercise_id}: the stub of {', '.join(missing)} does not call super().__init__() " \
                        "-- move it above ### BEGIN SOLUTION in the reference"
