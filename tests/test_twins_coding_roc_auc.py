"""coding/roc_auc against scikit-learn and scipy: the reference's ``roc_curve`` equals
``sklearn.metrics.roc_curve(drop_intermediate=False)`` (fpr, tpr and thresholds, +inf first),
both reference AUCs equal ``sklearn.metrics.roc_auc_score``, ``roc_auc_rank`` equals scipy's
Mann-Whitney U of the positives divided by P * N, and the grader's own oracles (a brute-force
threshold sweep, brute-force pair counting, the histogram count for integer scores) agree with
the same libraries -- with and without ties, for float32 scores and for a large tied input.
"""
import numpy as np
import pytest
import torch

metrics = pytest.importorskip("sklearn.metrics")
stats = pytest.importorskip("scipy.stats")

from mlkata.engine import load_module  # noqa: E402
from helpers import ROOT  # noqa: E402

REF = load_module(str(ROOT / "solutions" / "coding" / "roc_auc.py"), "twins_coding_roc_auc_reference")
ORACLE = load_module(str(ROOT / "graders" / "coding" / "roc_auc.py"), "twins_coding_roc_auc_grader")

CASES = [(0, None, torch.float64), (1, None, torch.float64), (2, 1, torch.float64), (3, 0, torch.float64),
         (4, 2, torch.float32), (5, None, torch.float32), (6, 0, torch.float64)]


@pytest.mark.parametrize("seed,ties,dtype", CASES)
def test_curve_and_aucs_match_sklearn_and_scipy(seed, ties, dtype):
    y, s = ORACLE.data(4000 + seed, n=[None, 200, 60, 40, 90, 150, 500][seed], ties=ties, dtype=dtype)
    yn, sn = y.numpy(), s.numpy()
    fpr, tpr, thr = (torch.from_numpy(np.asarray(a, dtype=np.float64))
                     for a in metrics.roc_curve(yn, sn, drop_intermediate=False))
    for got in (REF.roc_curve(y, s), ORACLE.curve_oracle(y, s)):
        assert torch.equal(got[2], thr), (got[2], thr)
        torch.testing.assert_close(got[0], fpr, rtol=0, atol=1e-15)
        torch.testing.assert_close(got[1], tpr, rtol=0, atol=1e-15)

    want = metrics.roc_auc_score(yn, sn)
    for value in (REF.roc_auc_score(y, s), REF.roc_auc_rank(y, s), ORACLE.pairs_auc(y, s)):
        assert abs(value - want) < 1e-12, (value, want)

    pos = yn != 0
    u = stats.mannwhitneyu(sn[pos], sn[~pos], alternative="two-sided").statistic
    assert abs(REF.roc_auc_rank(y, s) - u / (pos.sum() * (~pos).sum())) < 1e-12


def test_large_tied_input_matches_sklearn():
    g = torch.Generator().manual_seed(70)
    n, m = 100_000, 1000
    y = (torch.rand(n, generator=g) < 0.3).long()
    s_int = torch.clamp((torch.randn(n, generator=g) * 150 + 500 + 60 * y).round().long(), 0, m - 1)
    want = metrics.roc_auc_score(y.numpy(), s_int.numpy())
    assert abs(ORACLE.histogram_auc(y, s_int, m) - want) < 1e-12
    s = s_int.double() / 7.0
    assert abs(REF.roc_auc_rank(y, s) - want) < 1e-12
    assert abs(REF.roc_auc_score(y, s) - want) < 1e-12


def test_single_class_raises_value_error():
    # scikit-learn <= 1.7 raised ValueError here; 1.8+ warns and returns nan: the contract keeps the error
    s = torch.tensor([0.1, 0.5, 0.2], dtype=torch.float64)
    for fn in (REF.roc_curve, REF.roc_auc_score, REF.roc_auc_rank):
        with pytest.raises(ValueError):
            fn(torch.ones(3, dtype=torch.long), s)
