"""systems/ranking_metrics against scikit-learn: ``sklearn.metrics.ndcg_score(y_true, y_score, k=k)``
(linear gain, 1/log2(rank + 1) discount, ties averaged with the default ``ignore_ties=False``, 0 for
a query whose true relevances are all 0) equals the mean over queries of the reference's
``ndcg_at_k`` and of the grader's brute-force oracle (which enumerates every tie-breaking order),
query by query and batched, with and without ties.  sklearn has no precision@k, recall@k or MRR for
ranked lists; those are checked against the brute-force loops in the grader itself."""
import numpy as np
import pytest
import torch

sk_metrics = pytest.importorskip("sklearn.metrics")

from mlkata import catalog, grading  # noqa: E402
from mlkata.engine import load_module  # noqa: E402
from helpers import ROOT  # noqa: E402

REF = load_module(str(ROOT / "solutions" / "systems" / "ranking_metrics.py"), "twins_systems_ranking_ref")
ORACLE = grading.check_module("hidden", catalog.get("systems/ranking_metrics"))


@pytest.mark.parametrize("seed,Q,N,levels,ties", [(0, 20, 6, 4, True), (1, 20, 5, 3, True), (2, 30, 9, 5, False),
                                                  (3, 10, 7, 2, True), (4, 40, 12, 4, False)])
@pytest.mark.parametrize("k", [None, 1, 2, 4, 20])
def test_ndcg_matches_sklearn(seed, Q, N, levels, ties, k):
    scores, rel = ORACLE.batch(seed, Q, N, levels=levels, ties=ties, dtype=torch.float64)
    rel[0] = 0                                                          # one all-irrelevant query
    want_rows = [sk_metrics.ndcg_score(rel[q:q + 1].numpy(), scores[q:q + 1].numpy(), k=k) for q in range(Q)]
    want_rows = torch.tensor(want_rows, dtype=torch.float64)
    torch.testing.assert_close(REF.ndcg_at_k(scores, rel, k), want_rows, rtol=1e-12, atol=1e-12)
    if not ties or N <= 7:                                              # the oracle enumerates tie orders
        torch.testing.assert_close(ORACLE.brute("ndcg_at_k", scores, rel, k), want_rows, rtol=1e-12, atol=1e-12)
    batch_mean = sk_metrics.ndcg_score(rel.numpy(), scores.numpy(), k=k)
    assert abs(float(REF.ndcg_at_k(scores, rel, k).mean()) - batch_mean) < 1e-12


def test_ndcg_float32_and_graded_float_labels():
    g = torch.Generator().manual_seed(7)
    scores = torch.randn(50, 15, generator=g)
    rel = torch.rand(50, 15, generator=g) * 3
    want = sk_metrics.ndcg_score(rel.double().numpy(), scores.double().numpy(), k=5)
    assert abs(float(REF.ndcg_at_k(scores, rel, 5).double().mean()) - want) < 1e-6


def test_ignore_ties_is_the_tie_free_case():
    """On tie-free scores sklearn's two code paths agree, and so do we (sanity of the fixture)."""
    scores, rel = ORACLE.batch(9, 10, 8, levels=4, ties=False, dtype=torch.float64)
    a = sk_metrics.ndcg_score(rel.numpy(), scores.numpy(), k=3, ignore_ties=True)
    b = sk_metrics.ndcg_score(rel.numpy(), scores.numpy(), k=3)
    assert abs(a - b) < 1e-12
    assert abs(float(REF.ndcg_at_k(scores, rel, 3).mean()) - a) < 1e-12
    assert np.isfinite(a)
