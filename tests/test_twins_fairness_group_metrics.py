"""fairness/group_metrics against scikit-learn and fairlearn (both in the test extra).

fairlearn is no learner dependency, so at grading time the grader's hand-checked tables and its
counting-loop oracle are the reference; these tests pin that oracle to the libraries.  Per group,
scikit-learn's ``recall_score(zero_division=nan)`` is the TPR, the recall of the negatives'
complement gives the FPR, and the mean prediction is the selection rate; the reference
(solutions/) and the grader's oracle (graders/) both match them on random data, and so do the
three summaries built from them.  fairlearn computes its TPR/FPR through
``confusion_matrix(normalize="true")``; the last test pins where that formula agrees with ours
(every group holds both classes) and where it deliberately does not (a group without positives:
sklearn/fairlearn report 0, the contract says NaN and leaves it out of the gap).
"""
import math

import numpy as np
import pytest
import torch

skm = pytest.importorskip("sklearn.metrics")

from mlkata.engine import load_module  # noqa: E402
from helpers import ROOT  # noqa: E402

REF = load_module(str(ROOT / "solutions" / "fairness" / "group_metrics.py"), "twins_fairness_group_metrics_ref")
ORACLE = load_module(str(ROOT / "graders" / "fairness" / "group_metrics.py"), "twins_fairness_group_metrics_grader")


def sklearn_table(y_true, y_pred, sensitive):
    t, p, s = y_true.numpy(), y_pred.numpy(), sensitive.numpy()
    groups = np.unique(s)
    sel, tpr, fpr, count = [], [], [], []
    for g in groups:
        m = s == g
        count.append(int(m.sum()))
        sel.append(float(np.mean(p[m])))
        tpr.append(float(skm.recall_score(t[m], p[m], labels=[0, 1], pos_label=1, zero_division=np.nan)))
        # FPR = 1 - TNR, TNR = recall of class 0; nan when the group has no negatives
        tnr = skm.recall_score(t[m], p[m], labels=[0, 1], pos_label=0, zero_division=np.nan)
        fpr.append(float(1 - tnr))
    f64 = lambda v: torch.tensor(v, dtype=torch.float64)  # noqa: E731
    return {"groups": torch.from_numpy(groups), "count": torch.tensor(count), "selection_rate": f64(sel),
            "tpr": f64(tpr), "fpr": f64(fpr)}


def spread(v):
    d = v[~v.isnan()]
    return float(d.max() - d.min()) if d.numel() else math.nan


def datasets():
    yield from (ORACLE.dataset(seed) for seed in range(12))
    yield from (ORACLE.dataset(seed, both_classes=False) for seed in range(100, 112))
    yield ORACLE.Y_NOPOS, ORACLE.P_NOPOS, ORACLE.S_NOPOS


@pytest.mark.parametrize("case", list(range(25)))
def test_rates_match_sklearn_per_group(case):
    y_true, y_pred, sensitive = list(datasets())[case]
    want = sklearn_table(y_true, y_pred, sensitive)
    for got in (REF.group_rates(y_true, y_pred, sensitive), ORACLE.oracle(y_true, y_pred, sensitive)):
        assert torch.equal(got["groups"], want["groups"])
        assert torch.equal(got["count"], want["count"])
        for k in ("selection_rate", "tpr", "fpr"):
            torch.testing.assert_close(got[k], want[k], rtol=1e-12, atol=1e-12, equal_nan=True)
    dpd = spread(want["selection_rate"])
    eod = max(g for g in (spread(want["tpr"]), spread(want["fpr"])) if not math.isnan(g))
    sel = want["selection_rate"]
    ratio = 1.0 if sel.max() == 0 else float(sel.min() / sel.max())
    o = ORACLE.oracle(y_true, y_pred, sensitive)
    for d, e, r in ((REF.demographic_parity_difference(y_pred, sensitive),
                     REF.equalized_odds_difference(y_true, y_pred, sensitive),
                     REF.disparate_impact(y_pred, sensitive)[0]), (o["dpd"], o["eod"], o["ratio"])):
        assert abs(d - dpd) < 1e-12 and abs(e - eod) < 1e-12 and abs(r - ratio) < 1e-12


def test_fairlearn_formula_agrees_where_rates_are_defined_and_differs_where_not():
    """fairlearn's TPR is confusion_matrix(normalize="true")[1, 1] (fairlearn/metrics/_base_metrics.py)."""
    def cm_rates(t, p):
        cm = skm.confusion_matrix(t, p, labels=[0, 1], normalize="true")
        return cm[1, 1], cm[0, 1]                                 # TPR, FPR; 0/0 becomes 0
    for seed in range(6):
        y_true, y_pred, sensitive = ORACLE.dataset(seed)          # every group has both classes
        ref = REF.group_rates(y_true, y_pred, sensitive)
        for i, g in enumerate(ref["groups"].tolist()):
            m = (sensitive == g).numpy()
            tpr, fpr = cm_rates(y_true.numpy()[m], y_pred.numpy()[m])
            assert abs(tpr - float(ref["tpr"][i])) < 1e-12 and abs(fpr - float(ref["fpr"][i])) < 1e-12
    m = (ORACLE.S_NOPOS == 5).numpy()                             # a group without positives
    tpr, _ = cm_rates(ORACLE.Y_NOPOS.numpy()[m], ORACLE.P_NOPOS.numpy()[m])
    assert tpr == 0.0
    assert math.isnan(float(REF.group_rates(ORACLE.Y_NOPOS, ORACLE.P_NOPOS, ORACLE.S_NOPOS)["tpr"][1]))
    assert abs(REF.equalized_odds_difference(ORACLE.Y_NOPOS, ORACLE.P_NOPOS, ORACLE.S_NOPOS) - 2 / 3) < 1e-12


def test_matches_fairlearn_when_installed():
    fm = pytest.importorskip("fairlearn.metrics")
    for seed in range(8):
        y_true, y_pred, sensitive = ORACLE.dataset(seed)          # both classes in every group
        t, p, s = y_true.numpy(), y_pred.numpy(), sensitive.numpy()
        assert abs(REF.demographic_parity_difference(y_pred, sensitive)
                   - fm.demographic_parity_difference(t, p, sensitive_features=s)) < 1e-12
        assert abs(REF.equalized_odds_difference(y_true, y_pred, sensitive)
                   - fm.equalized_odds_difference(t, p, sensitive_features=s)) < 1e-12
        assert abs(REF.disparate_impact(y_pred, sensitive)[0]
                   - fm.demographic_parity_ratio(t, p, sensitive_features=s)) < 1e-12
