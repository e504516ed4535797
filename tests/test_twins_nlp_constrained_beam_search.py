"""Twins of nlp/constrained_beam_search.

No installable library implements it: transformers removed constrained beam search
(``force_words_ids`` / ``PhrasalConstraint``) from ``generate`` in 4.56 (Hub-hosted custom
generation code now, which cannot be downloaded here), and its bank allocation differs in detail
from grid beam search anyway.  So the twins are: without constraints the search is the reference of
nlp/beam_search (alpha = 0); with a beam wider than the search space its answer is the exhaustive
optimum over constrained sequences; and the reference equals the grader's step-by-step oracle on
many random language models.
"""
import pytest
import torch

from mlkata.engine import load_module
from helpers import ROOT


@pytest.fixture(scope="module")
def ref():
    return load_module(str(ROOT / "solutions" / "nlp" / "constrained_beam_search.py"), "twin_solution_nlp_cbs")


@pytest.fixture(scope="module")
def oracle():
    return load_module(str(ROOT / "graders" / "nlp" / "constrained_beam_search.py"), "twin_grader_nlp_cbs")


@pytest.fixture(scope="module")
def beam():
    return load_module(str(ROOT / "solutions" / "nlp" / "beam_search.py"), "twin_solution_nlp_beam_for_cbs")


def test_no_constraints_is_nlp_beam_search(ref, oracle, beam):
    for seed in range(10):
        lm = oracle.V.ToyLM(7, 900 + seed, eos_bias=0.5)
        ours = ref.constrained_beam_search(lm, 0, 1, [], 3, 5)
        plain = beam.beam_search(lm, 0, 1, 3, 5, alpha=0.0)
        assert [t for t, _ in ours] == [t for t, _ in plain]
        torch.testing.assert_close(torch.tensor([s for _, s in ours]), torch.tensor([s for _, s in plain]),
                                   rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("constraints", [[2], [3, 4], [2, 4, 3]])
def test_wide_beam_is_exhaustive(ref, oracle, constraints):
    lm = oracle.V.ToyLM(5, 31 + len(constraints), eos_bias=0.3)
    want = oracle.exhaustive(lm, constraints, 4)
    got = ref.constrained_beam_search(lm, 0, 1, constraints, 10_000, 4)
    assert got[0][0] == want[0][0]
    assert sorted(tuple(t) for t, s in got if s > float("-inf")) == sorted(tuple(t) for t, _ in want)


@pytest.mark.parametrize("seed", range(12))
def test_reference_equals_the_graders_simulation(ref, oracle, seed):
    constraints = [[3], [2, 5], [4, 2, 3], [5]][seed % 4]
    lm, want = oracle.pick_lm(200 + seed, constraints, 1 + seed % 3, 6, eos_bias=seed % 3 * 0.5)
    got = ref.constrained_beam_search(lm, 0, 1, constraints, 1 + seed % 3, 6)
    assert [t for t, _ in got] == [t for t, _ in want]
    assert all(set(constraints) <= set(t) for t, _ in got)
