"""systems/drift_psi against scipy and numpy:

* ``scipy.stats.ks_2samp(a, b).statistic`` equals the reference's ``ks_statistic`` and the grader's
  merge-walk oracle, on continuous samples and on heavily tied discrete ones;
* ``numpy.quantile(reference, levels)`` (default method 'linear') equals the reference's edges and
  the grader's loop;
* PSI equals a numpy formulation: ``np.digitize(x, edges, right=True)`` (bins (e_{i-1}, e_i], open
  at both ends), ``np.bincount``, exact zeros replaced by eps.
"""
import numpy as np
import pytest

stats = pytest.importorskip("scipy.stats")

from mlkata import catalog, grading  # noqa: E402
from mlkata.engine import load_module  # noqa: E402
from helpers import ROOT  # noqa: E402

REF = load_module(str(ROOT / "solutions" / "systems" / "drift_psi.py"), "twins_systems_drift_ref")
ORACLE = grading.check_module("hidden", catalog.get("systems/drift_psi"))
CASES = [(0, 500, 300, 0.2, 1.0, "normal"), (1, 1000, 1000, 0.0, 1.0, "normal"), (2, 50, 700, 0.0, 2.0, "lognormal"),
         (3, 400, 250, 0.4, 1.0, "discrete"), (4, 333, 334, 0.0, 1.0, "discrete"), (5, 7, 3, 0.5, 1.0, "discrete"),
         (6, 1, 1, 0.0, 1.0, "normal")]


@pytest.mark.parametrize("case", CASES)
def test_ks_matches_scipy(case):
    a, b = ORACLE.samples(*case)
    want = stats.ks_2samp(a.numpy(), b.numpy()).statistic
    assert abs(REF.ks_statistic(a, b) - want) < 1e-12
    assert abs(ORACLE.loop_ks(a, b) - want) < 1e-12


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("n_bins", [2, 5, 10, 20])
def test_edges_match_numpy_quantile(case, n_bins):
    ref, _ = ORACLE.samples(*case)
    want = np.quantile(ref.double().numpy(), np.arange(1, n_bins) / n_bins)
    np.testing.assert_allclose(REF.quantile_bin_edges(ref, n_bins).numpy(), want, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ORACLE.loop_edges(ref, n_bins), want, rtol=1e-12, atol=1e-12)


def numpy_psi(reference, current, n_bins=10, eps=1e-4):
    r, c = reference.double().numpy(), current.double().numpy()
    edges = np.quantile(r, np.arange(1, n_bins) / n_bins)
    def frac(x):
        p = np.bincount(np.digitize(x, edges, right=True), minlength=n_bins) / len(x)
        return np.where(p == 0, eps, p)
    e, a = frac(r), frac(c)
    return float(np.sum((a - e) * np.log(a / e)))


@pytest.mark.parametrize("case", CASES[:5])
@pytest.mark.parametrize("n_bins,eps", [(10, 1e-4), (4, 1e-3), (20, 1e-6)])
def test_psi_matches_numpy_formulation(case, n_bins, eps):
    ref, cur = ORACLE.samples(*case)
    want = numpy_psi(ref, cur, n_bins, eps)
    assert abs(REF.population_stability_index(ref, cur, n_bins, eps) - want) <= 1e-9 * max(1.0, abs(want))
    assert abs(ORACLE.loop_psi(ref, cur, n_bins, eps) - want) <= 1e-9 * max(1.0, abs(want))
