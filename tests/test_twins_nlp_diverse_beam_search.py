"""Twins of nlp/diverse_beam_search.

No production library implements it any more: transformers removed group beam search
(``num_beam_groups`` / ``diversity_penalty``) in 4.56 and moved it to Hub-hosted custom generation
code, which cannot be downloaded here; and its scheme accumulated the penalties into the running
scores, which the exercise (following the paper) does not.  So the twins are: one group equals
the reference of nlp/beam_search (alpha = 0); the reference equals the grader's step-by-step
oracle on many random language models; a huge penalty makes every group start differently.
"""
import pytest
import torch

from mlkata.engine import load_module
from helpers import ROOT


@pytest.fixture(scope="module")
def ref():
    return load_module(str(ROOT / "solutions" / "nlp" / "diverse_beam_search.py"), "twin_solution_nlp_diverse_beam")


@pytest.fixture(scope="module")
def oracle():
    return load_module(str(ROOT / "graders" / "nlp" / "diverse_beam_search.py"), "twin_grader_nlp_diverse_beam")


@pytest.fixture(scope="module")
def beam():
    return load_module(str(ROOT / "solutions" / "nlp" / "beam_search.py"), "twin_solution_nlp_beam_for_diverse")


def test_one_group_is_nlp_beam_search(ref, oracle, beam):
    for seed in range(10):
        lm = oracle.V.ToyLM(7, 500 + seed, eos_bias=0.5)
        ours = ref.diverse_beam_search(lm, 0, 1, 1, 3, 5, diversity_penalty=2.0)[0]
        plain = beam.beam_search(lm, 0, 1, 3, 5, alpha=0.0)
        assert [t for t, _ in ours] == [t for t, _ in plain]
        torch.testing.assert_close(torch.tensor([s for _, s in ours]), torch.tensor([s for _, s in plain]),
                                   rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("seed", range(12))
def test_reference_equals_the_graders_simulation(ref, oracle, seed):
    G, B, max_len, lam = 2 + seed % 3, 1 + seed % 3, 4 + seed % 2, [0.3, 1.0, 2.5][seed % 3]
    lm, want = oracle.pick_lm(100 + seed, G, B, max_len, lam, eos_bias=seed % 2)
    got = ref.diverse_beam_search(lm, 0, 1, G, B, max_len, diversity_penalty=lam)
    assert [[t for t, _ in g] for g in got] == [[t for t, _ in g] for g in want]


def test_groups_differ_at_every_first_step_with_a_large_penalty(ref, oracle):
    """With lambda far above any log-prob gap, G groups of one choose G different first tokens."""
    lm = oracle.V.ToyLM(8, 77)
    groups = ref.diverse_beam_search(lm, 0, 1, 4, 1, 3, diversity_penalty=100.0)
    assert len({g[0][0][0] for g in groups}) == 4
