"""systems/negative_sampling against gensim's noise distribution and scipy's goodness-of-fit test.

* gensim (``gensim/models/word2vec.py``, ``Word2Vec.make_cum_table``) does not store P(w): it stores
  ``cum_table[i] = round(sum_{j<=i} count_j ** ns_exponent / Z * (2**31 - 1))`` and draws an index
  by bisecting a random integer into it, so word i comes up with probability
  ``(cum_table[i] - cum_table[i-1]) / cum_table[-1]``.  That transcription (gensim is not installed)
  matches the reference's ``unigram_distribution`` and the grader's oracle to within 2 / 2**31.
* ``scipy.stats.chisquare`` does not reject the reference's sampler (conditional on excluding the
  positive) nor its alias tables (built by the reference, sampled by the reference) at 1e-6, on a
  50-item vocabulary; the grader's table-to-distribution map gives back the probabilities.
"""
import numpy as np
import pytest
import torch

stats = pytest.importorskip("scipy.stats")

from mlkata import catalog, grading  # noqa: E402
from mlkata.engine import load_module  # noqa: E402
from helpers import ROOT  # noqa: E402

REF = load_module(str(ROOT / "solutions" / "systems" / "negative_sampling.py"), "twins_systems_negsamp_ref")
ORACLE = grading.check_module("hidden", catalog.get("systems/negative_sampling"))
VISIBLE = grading.check_module("visible", catalog.get("systems/negative_sampling"))
DOMAIN = 2**31 - 1


def gensim_cum_table_probs(counts, ns_exponent=0.75):
    pow_ = [float(c) ** ns_exponent for c in counts]
    z = sum(pow_)
    cum, cumulative = np.zeros(len(counts), dtype=np.uint32), 0.0
    for i, p in enumerate(pow_):
        cumulative += p
        cum[i] = round(cumulative / z * DOMAIN)
    return np.diff(np.concatenate([[0], cum.astype(np.int64)])) / cum[-1]


@pytest.mark.parametrize("seed,V", [(0, 10), (1, 200), (2, 5000)])
@pytest.mark.parametrize("exponent", [0.75, 1.0, 0.5])
def test_distribution_matches_gensim_cum_table(seed, V, exponent):
    counts = torch.randint(1, 100_000, (V,), generator=torch.Generator().manual_seed(seed))
    want = torch.from_numpy(gensim_cum_table_probs(counts.tolist(), exponent))
    assert (REF.unigram_distribution(counts, exponent) - want).abs().max() <= 2 / DOMAIN
    assert (ORACLE.oracle_distribution(counts, exponent) - want).abs().max() <= 2 / DOMAIN


def vocabulary(V=50):
    counts = torch.randint(50, 5000, (V,), generator=torch.Generator().manual_seed(9))
    return REF.unigram_distribution(counts)


def test_sampler_passes_chi_square():
    probs = vocabulary()
    positive = int(probs.argmax())
    draws = REF.sample_negatives(probs, torch.full((400,), positive), 500, torch.Generator().manual_seed(0))
    assert not (draws == positive).any()
    observed = torch.bincount(draws.reshape(-1), minlength=len(probs)).double()
    expected = probs / (1 - probs[positive]) * draws.numel()
    keep = torch.arange(len(probs)) != positive
    assert stats.chisquare(observed[keep].numpy(), expected[keep].numpy()).pvalue > 1e-6


def test_alias_table_passes_chi_square():
    probs = vocabulary()
    prob, alias = REF.build_alias_table(probs)
    torch.testing.assert_close(VISIBLE.implied(prob, alias), probs, rtol=0, atol=1e-12)
    for table in ((prob, alias), ORACLE.vose(probs)):
        draws = REF.alias_sample(*table, 200_000, torch.Generator().manual_seed(1))
        observed = torch.bincount(draws, minlength=len(probs)).double()
        assert stats.chisquare(observed.numpy(), (probs * 200_000).numpy()).pvalue > 1e-6
