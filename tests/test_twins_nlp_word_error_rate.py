"""Library twin of nlp/word_error_rate: the reference agrees with jiwer -- ``jiwer.wer`` and
``jiwer.cer`` on random corpora, and ``jiwer.process_words``'s hits, substitutions, deletions and
insertions up to the choice among equally cheap alignments (the totals S + D + I and H, S, D, I of
jiwer's alignment are among the grader's set of every cheapest alignment's counts)."""
import random

import pytest

from mlkata.engine import load_module
from helpers import ROOT

jiwer = pytest.importorskip("jiwer")


@pytest.fixture(scope="module")
def ref():
    return load_module(str(ROOT / "solutions" / "nlp" / "word_error_rate.py"), "twin_solution_nlp_word_error_rate")


@pytest.fixture(scope="module")
def oracle():
    return load_module(str(ROOT / "graders" / "nlp" / "word_error_rate.py"), "twin_grader_nlp_word_error_rate")


@pytest.mark.parametrize("seed,p", [(0, 0.2), (1, 0.5), (2, 1.0), (3, 2.0)])
def test_wer_and_cer_agree_with_jiwer(ref, oracle, seed, p):
    refs, hyps = oracle.corpus(seed, n=12, p=p)
    hyps[0] = "  " + hyps[0] + "   "
    assert ref.word_error_rate(refs, hyps) == pytest.approx(jiwer.wer(refs, hyps), rel=1e-12)
    assert ref.char_error_rate(refs, hyps) == pytest.approx(jiwer.cer(refs, hyps), rel=1e-12)
    assert oracle.oracle_wer(refs, hyps) == pytest.approx(jiwer.wer(refs, hyps), rel=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_counts_agree_with_jiwers_alignment_up_to_ties(ref, oracle, seed):
    rng = random.Random(seed)
    for _ in range(20):
        words = [rng.choice(oracle.VOCAB) for _ in range(rng.randint(1, 12))]
        hyp = oracle.noisy(rng, words, 0.6) or ["x"]
        out = jiwer.process_words(" ".join(words), " ".join(hyp))
        theirs = (out.hits, out.substitutions, out.deletions, out.insertions)
        ours = tuple(ref.error_counts(words, hyp)[k] for k in ("hits", "substitutions", "deletions", "insertions"))
        allowed = oracle.minimal_counts(words, hyp)
        assert theirs in allowed and ours in allowed
        assert sum(ours[1:]) == sum(theirs[1:]) == ref.edit_distance(words, hyp)
