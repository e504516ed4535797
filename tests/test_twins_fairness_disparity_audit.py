"""fairness/disparity_audit against scikit-learn's metrics per group and fairlearn's MetricFrame
(both in the test extra; at grading time the grader's counting oracle and its hand-checked
11-person table are the reference, since fairlearn is no learner dependency).

Per group (rows of feature values, found here with numpy's ``np.unique(axis=0)``), scikit-learn's
``accuracy_score``, ``precision_score(zero_division=nan)``, ``recall_score(zero_division=nan)``,
``1 - recall of class 0`` (the FPR) and the mean prediction match the reference (solutions/) and
the grader's oracle (graders/); so do the overall values (sklearn on all samples) and the
difference / ratio / flags built from the sklearn values with NaN left out.  MetricFrame itself
calls the sklearn metrics with their default ``zero_division``, i.e. 0 where the contract says NaN;
the fairlearn test therefore uses data in which every metric is defined in every group.
"""
import math

import numpy as np
import pytest
import torch

skm = pytest.importorskip("sklearn.metrics")

from mlkata.engine import load_module  # noqa: E402
from helpers import ROOT  # noqa: E402

REF = load_module(str(ROOT / "solutions" / "fairness" / "disparity_audit.py"), "twins_fairness_audit_ref")
ORACLE = load_module(str(ROOT / "graders" / "fairness" / "disparity_audit.py"), "twins_fairness_audit_grader")
METRICS = ORACLE.METRICS


def sk_metrics(t, p):
    nan = np.nan
    return {"accuracy": skm.accuracy_score(t, p),
            "precision": skm.precision_score(t, p, labels=[0, 1], zero_division=nan),
            "recall": skm.recall_score(t, p, labels=[0, 1], zero_division=nan),
            "fpr": 1 - skm.recall_score(t, p, labels=[0, 1], pos_label=0, zero_division=nan),
            "selection_rate": float(np.mean(p))}


def sklearn_audit(y, p, s, tol):
    t, pn, sn = y.numpy(), p.numpy(), s.numpy()
    groups, index = np.unique(sn, axis=0, return_inverse=True)
    index = index.reshape(-1)
    per = [sk_metrics(t[index == i], pn[index == i]) for i in range(len(groups))]
    by_group = {m: torch.tensor([float(r[m]) for r in per], dtype=torch.float64) for m in METRICS}
    diff, ratio = {}, {}
    for m in METRICS:
        d = [float(r[m]) for r in per if not math.isnan(r[m])]
        diff[m] = max(d) - min(d) if d else math.nan
        ratio[m] = math.nan if not d else 1.0 if max(d) == 0 else min(d) / max(d)
    return {"groups": torch.from_numpy(groups), "count": torch.from_numpy(np.bincount(index)),
            "overall": {m: float(v) for m, v in sk_metrics(t, pn).items()}, "by_group": by_group,
            "difference": diff, "ratio": ratio, "flagged": [m for m in METRICS if diff[m] > tol]}


def close(a, b):
    return (math.isnan(a) and math.isnan(b)) or abs(a - b) < 1e-12


CASES = [(seed, k) for seed in range(8) for k in (0, 2, 3)]


@pytest.mark.parametrize("seed,k", CASES)
def test_audit_matches_sklearn_per_group(seed, k):
    y, p, s = ORACLE.dataset(200 + seed, k=k)
    want = sklearn_audit(y, p, s, 0.1)
    for got in (REF.disparity_audit(y, p, s, 0.1), ORACLE.oracle(y, p, s, 0.1)):
        assert torch.equal(got["groups"], want["groups"])
        assert torch.equal(got["count"], want["count"])
        for m in METRICS:
            torch.testing.assert_close(got["by_group"][m], want["by_group"][m], rtol=1e-12, atol=1e-12,
                                       equal_nan=True)
            assert close(got["overall"][m], want["overall"][m])
            assert close(got["difference"][m], want["difference"][m])
            assert close(got["ratio"][m], want["ratio"][m])
        assert got["flagged"] == want["flagged"]


def test_undefined_values_match_sklearn_zero_division_nan():
    s, y, p = (torch.tensor([2, 2, 2, 2, 4, 4, 4, 6, 6, 6]), torch.tensor([1, 0, 1, 0, 1, 0, 0, 1, 1, 1]),
               torch.tensor([1, 1, 1, 0, 0, 0, 0, 1, 0, 1]))
    want = sklearn_audit(y, p, s, 0.1)
    got = REF.disparity_audit(y, p, s, 0.1)
    for m in METRICS:
        torch.testing.assert_close(got["by_group"][m], want["by_group"][m], equal_nan=True)
        assert close(got["difference"][m], want["difference"][m])


def test_matches_fairlearn_metricframe_when_installed():
    fm = pytest.importorskip("fairlearn.metrics")
    fns = {"accuracy": skm.accuracy_score, "precision": skm.precision_score, "recall": skm.recall_score,
           "fpr": fm.false_positive_rate, "selection_rate": fm.selection_rate}
    for seed in range(6):
        y, p, s = ORACLE.dataset(300 + seed)
        got = REF.disparity_audit(y, p, s, 0.1)
        if any(got["by_group"][m].isnan().any() for m in METRICS):
            continue                                      # MetricFrame would report 0 there
        mf = fm.MetricFrame(metrics=fns, y_true=y.numpy(), y_pred=p.numpy(), sensitive_features=s.numpy())
        for m in METRICS:
            assert abs(got["overall"][m] - float(mf.overall[m])) < 1e-12
            np.testing.assert_allclose(got["by_group"][m].numpy(), mf.by_group[m].to_numpy(), rtol=1e-12)
            assert abs(got["difference"][m] - float(mf.difference()[m])) < 1e-12
            assert abs(got["ratio"][m] - float(mf.ratio()[m])) < 1e-12
