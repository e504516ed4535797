"""Library twin of nlp/bleu: the reference and the grader's oracle agree with
``sacrebleu.corpus_bleu(hypotheses, reference_streams, tokenize="none", smooth_method=...)`` --
the score, and through ``BLEUScore`` its sufficient statistics (clipped matches and totals per
order, the system and reference lengths) -- on random corpora with one to three references,
both smoothings and several maximum orders."""
import random

import pytest

from mlkata.engine import load_module
from helpers import ROOT

sacrebleu = pytest.importorskip("sacrebleu")


@pytest.fixture(scope="module")
def ref():
    return load_module(str(ROOT / "solutions" / "nlp" / "bleu.py"), "twin_solution_nlp_bleu")


@pytest.fixture(scope="module")
def oracle():
    return load_module(str(ROOT / "graders" / "nlp" / "bleu.py"), "twin_grader_nlp_bleu")


def sacre(hyps, refs, smooth="exp", max_order=4):
    streams = [[" ".join(rs[j]) for rs in refs] for j in range(len(refs[0]))]
    metric = sacrebleu.metrics.BLEU(tokenize="none", smooth_method=smooth, max_ngram_order=max_order)
    return metric.corpus_score([" ".join(h) for h in hyps], streams)


@pytest.mark.parametrize("smooth", ["exp", "none"])
@pytest.mark.parametrize("n_refs", [1, 2, 3])
@pytest.mark.parametrize("seed", range(4))
def test_score_and_statistics_agree_with_sacrebleu(ref, oracle, smooth, n_refs, seed):
    hyps, refs = oracle.random_corpus(seed, n=8, n_refs=n_refs, p=0.2 + 0.2 * seed, lo=1, hi=14)
    theirs = sacre(hyps, refs, smooth)
    assert ref.corpus_bleu(hyps, refs, smooth=smooth) == pytest.approx(theirs.score, rel=1e-12, abs=1e-12)
    assert oracle.oracle_bleu(hyps, refs, smooth=smooth) == pytest.approx(theirs.score, rel=1e-12, abs=1e-12)
    counts = [[ref.clipped_matches(h, rs, n) for h, rs in zip(hyps, refs)] for n in range(1, 5)]
    assert [sum(m for m, _ in order) for order in counts] == list(theirs.counts)
    assert [sum(t for _, t in order) for order in counts] == list(theirs.totals)
    assert sum(len(h) for h in hyps) == theirs.sys_len
    assert sum(ref.closest_reference_length(len(h), [len(r) for r in rs]) for h, rs in zip(hyps, refs)) == theirs.ref_len


@pytest.mark.parametrize("max_order", [1, 2, 3])
def test_other_orders_agree_with_sacrebleu(ref, oracle, max_order):
    hyps, refs = oracle.random_corpus(10 + max_order, n=6, n_refs=2, p=0.5)
    want = sacre(hyps, refs, max_order=max_order).score
    assert ref.corpus_bleu(hyps, refs, max_order=max_order) == pytest.approx(want, rel=1e-12, abs=1e-12)


def test_many_random_small_corpora(ref):
    rng = random.Random(0)
    vocab = "a b c d e f".split()
    for _ in range(200):
        n, k = rng.randint(1, 4), rng.randint(1, 3)
        hyps = [[rng.choice(vocab) for _ in range(rng.randint(0, 9))] for _ in range(n)]
        refs = [[[rng.choice(vocab) for _ in range(rng.randint(1, 9))] for _ in range(k)] for _ in range(n)]
        for smooth in ("exp", "none"):
            assert ref.corpus_bleu(hyps, refs, smooth=smooth) == pytest.approx(sacre(hyps, refs, smooth).score,
                                                                               rel=1e-12, abs=1e-12)
