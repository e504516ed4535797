"""nlp/logits_processors: the reference and the graders' oracles agree with transformers'
RepetitionPenaltyLogitsProcessor, NoRepeatNGramLogitsProcessor and MinPLogitsWarper on random
batches, and with a LogitsProcessorList holding the three in generate's order."""
import pytest
import torch

from mlkata import catalog, grading
from mlkata.engine import load_module
from helpers import ROOT

EX = catalog.get("nlp/logits_processors")
lp = pytest.importorskip("transformers.generation.logits_process")


@pytest.fixture(scope="module")
def ref():
    return load_module(str(ROOT / "solutions" / "nlp" / "logits_processors.py"), "twin_ref_logits_processors")


@pytest.fixture(scope="module")
def grader():
    return grading.check_module("hidden", EX)


@pytest.mark.parametrize("seed", range(10))
def test_each_processor_agrees_with_transformers(ref, grader, seed):
    g = torch.Generator().manual_seed(seed)
    B, T, V = 1 + seed % 3, 2 + seed, 3 + seed % 5
    ids = torch.randint(V, (B, T), generator=g)
    scores = torch.randn(B, V, generator=g) * 3
    penalty = [0.6, 1.3, 2.0][seed % 3]
    want = lp.RepetitionPenaltyLogitsProcessor(penalty)(ids, scores.clone())
    torch.testing.assert_close(ref.repetition_penalty(ids, scores, penalty), want)
    torch.testing.assert_close(grader.oracle_penalty(ids, scores, penalty), want)
    for n in (1, 2, 3):
        want = lp.NoRepeatNGramLogitsProcessor(n)(ids, scores.clone())
        torch.testing.assert_close(ref.no_repeat_ngram(ids, scores, n), want)
        torch.testing.assert_close(grader.oracle_ngram(ids, scores, n), want)
    for min_p, keep in ((0.1, 1), (0.5, 2), (0.95, 1)):
        want = lp.MinPLogitsWarper(min_p, min_tokens_to_keep=keep)(ids, scores.clone())
        torch.testing.assert_close(ref.min_p_filter(scores, min_p, keep), want)
        torch.testing.assert_close(grader.oracle_min_p(scores, min_p, keep), want)


def test_the_chain_agrees_with_a_logits_processor_list(ref):
    g = torch.Generator().manual_seed(99)
    ids, scores = torch.randint(6, (3, 14), generator=g), torch.randn(3, 6, generator=g) * 2
    chain = lp.LogitsProcessorList([lp.RepetitionPenaltyLogitsProcessor(1.4), lp.NoRepeatNGramLogitsProcessor(2),
                                    lp.MinPLogitsWarper(0.25)])
    torch.testing.assert_close(ref.process(ids, scores, penalty=1.4, ngram=2, min_p=0.25), chain(ids, scores.clone()))
