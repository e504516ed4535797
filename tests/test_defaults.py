"""Every default is exercised: the reference with one default moved to a nearby wrong value loses points.

A default the graders never exercise -- every check passes the argument, or only on inputs where
the wrong value gives the same answer (``y.numel()`` and ``y.shape[0]`` agree on 1-D targets) --
lets a wrong default through.  :func:`mlkata.nulls.default_mutants` moves each literal default of
the reference in turn; each such mutant must lose points, unless it is listed below with the
reason no grader can or should tell it apart.
"""
from __future__ import annotations

import math

import pytest

from mlkata import catalog, nulls

EXERCISES = list(catalog.load())

# "function.argument" -> the wrong value to try, where the generic move is not a plausible mistake
OVERRIDES = {
    # a = 0.1 changes He init's std by 0.5%, below any statistical test of one draw; nn.Linear's
    # a = sqrt(5) is the mistake people make
    ("fundamentals/weight_init", "kaiming_normal_.a"): math.sqrt(5),
}

# (exercise, "function.argument") -> why a wrong value of this default cannot be seen
UNOBSERVABLE = {
    ("rl/value_iteration", "value_iteration.tol"): "a tolerance of 1e-6 instead of 1e-8 moves the values by less "
                                                   "than the graded tolerance",
    ("rl/value_iteration", "value_iteration.max_iters"): "a cap that no graded MDP reaches: value iteration "
                                                         "converges in far fewer sweeps",
    ("coding/kmeans", "lloyd.max_iter"): "a cap that no graded run reaches: Lloyd converges in a few dozen steps",
    ("coding/kmeans", "kmeans.max_iter"): "the same cap, passed on to lloyd",
}


def _survivors(ex) -> list[str]:
    overrides = {k: v for (e, k), v in OVERRIDES.items() if e == ex.id}
    missed = []
    for label, source in nulls.default_mutants(ex, overrides):
        key = label.split("=")[0]
        if (ex.id, key) in UNOBSERVABLE:
            continue
        result = nulls.grade_source(ex, source, isolate=False)
        if result.score == result.max_score:
            missed.append(label)
    return missed


@pytest.mark.parametrize("exercise_id", EXERCISES)
def test_every_default_is_exercised(exercise_id):
    missed = _survivors(catalog.get(exercise_id))
    assert not missed, (f"{exercise_id}: a wrong default gets full marks -- add a check that calls the function "
                        f"without the argument on inputs where the values differ: {'; '.join(missed)}")


def test_mutants_move_one_default_at_a_time():
    ex = catalog.get("fundamentals/gradient_clipping")
    mutants = dict(nulls.default_mutants(ex))
    assert list(mutants) == ["clip_grad_norm_.norm_type=2.0 -> 1.0"]
    assert "norm_type: float=1.0" in mutants["clip_grad_norm_.norm_type=2.0 -> 1.0"]


def test_tuples_of_numbers_and_string_choices_are_moved_too():
    """betas=(0.9, 0.999) moves one number at a time; a string moves to another choice the function
    compares the argument with (not to an arbitrary word that would only raise ValueError)."""
    adam = [label for label, _ in nulls.default_mutants(catalog.get("optim/adam"))]
    assert "__init__.betas=(0.9, 0.999) -> (0.45, 0.999)" in adam
    assert "__init__.betas=(0.9, 0.999) -> (0.9, 0.4995)" in adam
    bleu = [label for label, _ in nulls.default_mutants(catalog.get("nlp/bleu"))]
    assert "corpus_bleu.smooth='exp' -> 'none'" in bleu
