"""fairness/threshold_equalization against scikit-learn's ``roc_curve``.

For each group, ``roc_curve(y_g, scores_g, drop_intermediate=False)`` lists every threshold that
changes the predictions (``+inf`` first, then the group's distinct scores descending) with the
TPR of ``score >= threshold``.  Choosing from that list the threshold whose TPR is closest to
the target -- the first one in its descending order on an exact tie, i.e. the larger threshold --
gives the same thresholds and TPRs as the reference (solutions/) and as the grader's brute force
(graders/), on continuous and on tied scores.  (fairlearn's ThresholdOptimizer is not installed
here; it optimises a different objective anyway -- accuracy under a TPR-parity constraint, with
randomised thresholds -- so it is cited as the idea, not used as an oracle.)
"""
import warnings

import numpy as np
import pytest
import torch

skm = pytest.importorskip("sklearn.metrics")

from mlkata.engine import load_module  # noqa: E402
from helpers import ROOT  # noqa: E402

REF = load_module(str(ROOT / "solutions" / "fairness" / "threshold_equalization.py"), "twins_fairness_theq_ref")
ORACLE = load_module(str(ROOT / "graders" / "fairness" / "threshold_equalization.py"), "twins_fairness_theq_grader")


def via_roc_curve(scores, y, s, target):
    th, tprs = [], []
    for g in np.unique(s.numpy()):
        m = s.numpy() == g
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")                   # a group may have no negatives: FPR undefined
            _, tpr, thresholds = skm.roc_curve(y.numpy()[m], scores.double().numpy()[m], drop_intermediate=False)
        assert thresholds[0] == np.inf
        best = int(np.argmin(np.abs(tpr - target)))          # first minimum = largest threshold
        th.append(thresholds[best])
        tprs.append(tpr[best])
    return torch.tensor(th, dtype=torch.float64), torch.tensor(tprs, dtype=torch.float64)


@pytest.mark.parametrize("seed,tied", [(seed, tied) for seed in range(10) for tied in (False, True)])
def test_thresholds_match_roc_curve_choice(seed, tied):
    scores, y, s, target, want = ORACLE.dataset(seed + 100, tied=tied)
    th, tpr = via_roc_curve(scores, y, s, target)
    for got in (REF.equal_opportunity_thresholds(scores, y, s, target), want):
        assert torch.equal(got["thresholds"], th)
        torch.testing.assert_close(got["tpr"], tpr, rtol=1e-12, atol=1e-12)
    pred = REF.apply_thresholds(scores, s, want["groups"], want["thresholds"])
    for j, g in enumerate(want["groups"].tolist()):
        m = ((s == g) & (y == 1)).numpy()
        assert abs(skm.recall_score(y.numpy()[m], pred.numpy()[m], zero_division=0.0) - float(tpr[j])) < 1e-12
