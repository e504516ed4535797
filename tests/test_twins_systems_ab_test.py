"""systems/ab_test against scipy and statsmodels (both in the test extra):

* ``normal_cdf`` / ``normal_ppf`` of the reference, and the grader's oracles (torch's log_ndtr and
  ndtri), equal ``scipy.stats.norm.cdf`` / ``norm.ppf`` deep into both tails;
* the pooled z-test is the chi-square test of the 2x2 table without Yates' correction:
  ``scipy.stats.chi2_contingency(table, correction=False)`` has statistic z^2 and the same p-value;
  the p-value is ``2 * norm.sf(|z|)``;
* the interval is the Wald interval with ``norm.isf(alpha / 2)``; the sample size is the smallest n
  whose normal-approximation power, computed with scipy, reaches the target;
* statsmodels: ``proportions_ztest([x_b, x_a], [n_b, n_a])``,
  ``confint_proportions_2indep(x_b, n_b, x_a, n_a, method="wald")`` and
  ``ceil(samplesize_proportions_2indep_onetail(mde, baseline, power, alpha=alpha))``.
"""
import math

import numpy as np
import pytest

stats = pytest.importorskip("scipy.stats")

from mlkata import catalog, grading  # noqa: E402
from mlkata.engine import load_module  # noqa: E402
from helpers import ROOT  # noqa: E402

REF = load_module(str(ROOT / "solutions" / "systems" / "ab_test.py"), "twins_systems_ab_ref")
ORACLE = grading.check_module("hidden", catalog.get("systems/ab_test"))
CASES = ORACLE.experiments(100, 40) + [(200, 1000, 250, 1000), (5000, 10000, 5800, 10000)]


def close(a, b, rtol):
    return abs(a - b) <= rtol * abs(b)


def test_normal_cdf_and_ppf_match_scipy():
    for x in [-37.0, -30.0, -20.0, -8.5, -3.0, -1.0, -1e-3, 0.0, 0.7, 2.5, 6.0, 8.0]:
        assert close(REF.normal_cdf(x), stats.norm.cdf(x), 1e-12), x
        assert close(ORACLE.Phi(x), stats.norm.cdf(x), 1e-12), x
    for p in [1e-300, 1e-100, 1e-20, 1e-8, 0.001, 0.025, 0.2, 0.5, 0.7, 0.975, 0.999, 1 - 1e-8, 1 - 1e-14]:
        want = stats.norm.ppf(p)
        assert abs(REF.normal_ppf(p) - want) <= 1e-12 * max(1.0, abs(want)), p
        assert abs(ORACLE.Phi_inv(p) - want) <= 1e-12 * max(1.0, abs(want)), p


@pytest.mark.parametrize("case", CASES)
def test_ztest_is_the_uncorrected_chi_square_test(case):
    x_a, n_a, x_b, n_b = case
    z, p = REF.two_proportion_ztest(*case)
    chi2, p_chi2, _, _ = stats.chi2_contingency(np.array([[x_a, n_a - x_a], [x_b, n_b - x_b]]), correction=False)
    assert close(z * z, chi2, 1e-9)
    assert close(p, 2 * stats.norm.sf(abs(z)), 1e-9)
    if p_chi2 > 1e-250:                              # chi2.sf keeps a relative 1e-9 there
        assert close(p, p_chi2, 1e-8)
    oz, op = ORACLE.oracle_ztest(*case)
    assert close(oz, z, 1e-12) and close(op, p, 1e-9)


@pytest.mark.parametrize("alpha", [0.2, 0.05, 0.01])
def test_interval_is_wald_with_scipy_quantile(alpha):
    for x_a, n_a, x_b, n_b in CASES:
        pa, pb = x_a / n_a, x_b / n_b
        half = stats.norm.isf(alpha / 2) * math.sqrt(pa * (1 - pa) / n_a + pb * (1 - pb) / n_b)
        want = (pb - pa - half, pb - pa + half)
        for got in (REF.diff_confidence_interval(x_a, n_a, x_b, n_b, alpha),
                    ORACLE.oracle_interval(x_a, n_a, x_b, n_b, alpha)):
            assert abs(got[0] - want[0]) < 1e-12 and abs(got[1] - want[1]) < 1e-12


@pytest.mark.parametrize("args", ORACLE.GRID)
def test_sample_size_is_the_smallest_n_reaching_the_power(args):
    baseline, mde, alpha, power = args
    p1, p2 = baseline, baseline + mde
    pbar = (p1 + p2) / 2
    s0, s1 = math.sqrt(2 * pbar * (1 - pbar)), math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))

    def approx_power(n):           # the near tail of the two-sided test under H1 (normal approximation)
        return stats.norm.cdf((abs(mde) * math.sqrt(n) - stats.norm.isf(alpha / 2) * s0) / s1)

    n = REF.sample_size_per_arm(*args)
    assert isinstance(n, int)
    assert approx_power(n) >= power > approx_power(n - 1)
    assert n == math.ceil(ORACLE.oracle_sample_size_exact(*args))


def test_statsmodels_agrees():
    proportion = pytest.importorskip("statsmodels.stats.proportion")
    for x_a, n_a, x_b, n_b in CASES:
        z, p = proportion.proportions_ztest([x_b, x_a], [n_b, n_a])
        got = REF.two_proportion_ztest(x_a, n_a, x_b, n_b)
        assert close(got[0], z, 1e-9) and (close(got[1], p, 1e-6) or p < 1e-250)
        low, upp = proportion.confint_proportions_2indep(x_b, n_b, x_a, n_a, method="wald", compare="diff")
        ref = REF.diff_confidence_interval(x_a, n_a, x_b, n_b)
        assert abs(ref[0] - low) < 1e-12 and abs(ref[1] - upp) < 1e-12
    for baseline, mde, alpha, power in ORACLE.GRID:
        want = math.ceil(proportion.samplesize_proportions_2indep_onetail(mde, baseline, power, alpha=alpha))
        assert REF.sample_size_per_arm(baseline, mde, alpha, power) == want
