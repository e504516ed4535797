"""fairness/calibration against scikit-learn's ``calibration_curve(strategy="uniform")``.

scikit-learn returns ``(prob_true, prob_pred)`` for the NON-EMPTY bins only, with bins
closed on the right (``np.searchsorted(edges[1:-1], y_prob)``); the contract returns every bin
with NaN for the empty ones.  So: the reference's (solutions/) and the grader oracle's (graders/)
accuracy and confidence, restricted to bins with count > 0, equal sklearn's prob_true and
prob_pred, on random data with 1 to 20 bins and on confidences exactly on the (dyadic) edges;
and ECE computed from sklearn's curve plus bin counts (np.bincount of the same searchsorted ids)
equals both.
"""
import numpy as np
import pytest
import torch

calibration = pytest.importorskip("sklearn.calibration")

from mlkata.engine import load_module  # noqa: E402
from helpers import ROOT  # noqa: E402

REF = load_module(str(ROOT / "solutions" / "fairness" / "calibration.py"), "twins_fairness_calibration_ref")
ORACLE = load_module(str(ROOT / "graders" / "fairness" / "calibration.py"), "twins_fairness_calibration_grader")


def sklearn_curve(c, y, n_bins):
    prob_true, prob_pred = calibration.calibration_curve(y.numpy(), c.double().numpy(), n_bins=n_bins,
                                                         strategy="uniform")
    ids = np.searchsorted(np.linspace(0.0, 1.0, n_bins + 1)[1:-1], c.double().numpy())
    counts = np.bincount(ids, minlength=n_bins)
    ece = float(np.sum(counts[counts > 0] / len(c) * np.abs(prob_true - prob_pred)))
    return torch.from_numpy(prob_true), torch.from_numpy(prob_pred), torch.from_numpy(counts), ece


def cases():
    for seed in range(24):
        yield ORACLE.dataset(seed)
    c = torch.tensor([0.0, 0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 0.875, 1.0, 0.5, 1.0, 0.0], dtype=torch.float64)
    y = torch.tensor([1, 0, 1, 1, 0, 1, 0, 1, 1, 1, 0, 0])
    for n_bins in (2, 4, 8):
        yield c, y, n_bins


@pytest.mark.parametrize("case", range(27))
def test_bins_match_sklearn_calibration_curve(case):
    c, y, n_bins = list(cases())[case]
    prob_true, prob_pred, counts, ece = sklearn_curve(c, y, n_bins)
    for got in (REF.reliability_bins(c, y, n_bins), ORACLE.oracle(c, y, n_bins)):
        assert torch.equal(got["count"], counts)
        full = got["count"] > 0
        torch.testing.assert_close(got["accuracy"][full], prob_true, rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(got["confidence"][full], prob_pred, rtol=1e-12, atol=1e-12)
        assert got["accuracy"][~full].isnan().all() and got["confidence"][~full].isnan().all()
    assert abs(REF.expected_calibration_error(c, y, n_bins) - ece) < 1e-12
    assert abs(ORACLE.oracle(c, y, n_bins)["ece"] - ece) < 1e-12


def test_top_label_matches_numpy_argmax():
    g = torch.Generator().manual_seed(0)
    probs = torch.randint(0, 3, (500, 4), generator=g).double().softmax(dim=1)     # many ties
    labels = torch.randint(0, 4, (500,), generator=g)
    conf, correct = REF.top_label_confidence(probs, labels)
    pn = probs.numpy()
    assert np.array_equal(conf.numpy(), pn.max(axis=1))
    assert np.array_equal(correct.numpy(), pn.argmax(axis=1) == labels.numpy())   # numpy: first maximal index
