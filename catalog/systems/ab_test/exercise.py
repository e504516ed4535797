"""A/B testing a conversion rate: the two-proportion z-test, a confidence interval, and sample size.

Control (A) converts ``x_a`` of ``n_a`` users, treatment (B) ``x_b`` of ``n_b``.  Did B change the
rate?  The classic answer -- what ``statsmodels.stats.proportion.proportions_ztest`` computes, and
the same test as a chi-square test on the 2x2 table (``scipy.stats.chi2_contingency(...,
correction=False)``, whose statistic is z squared) -- is a z-test under the normal approximation:

* under H0 both arms share one rate, estimated by pooling: ``p = (x_a + x_b) / (n_a + n_b)``;
  ``z = (p_b - p_a) / sqrt(p (1 - p) (1/n_a + 1/n_b))`` and the two-sided p-value is
  ``P(|Z| >= |z|) = 2 (1 - Phi(|z|))``;
* the confidence interval for the difference ``p_b - p_a`` does NOT assume H0, so it uses the
  unpooled standard error ``sqrt(p_a (1 - p_a) / n_a + p_b (1 - p_b) / n_b)`` (the Wald interval);
* before the experiment, the sample size per arm that detects an absolute lift ``mde`` over the
  ``baseline`` rate with a two-sided level ``alpha`` test and probability ``power``:
  ``n = ceil( (z_{1-alpha/2} sqrt(2 pbar (1 - pbar)) + z_{power} sqrt(p1 (1 - p1) + p2 (1 - p2)))^2 / mde^2 )``
  with ``p1 = baseline``, ``p2 = baseline + mde``, ``pbar = (p1 + p2) / 2`` (Fleiss' formula
  without continuity correction: the pooled variance under H0, the unpooled one under H1 -- what
  ``statsmodels.stats.proportion.samplesize_proportions_2indep_onetail`` computes before rounding).

All of it needs the standard normal CDF ``Phi`` and its inverse.  scipy is not available to you:
build ``Phi`` from ``math.erf`` / ``math.erfc`` and invert it yourself (bisection, or Acklam's
rational approximation refined by a Newton step).  Mind the tails: ``1 - Phi(9)`` computed as a
difference is 0, while the true p-value is about 2e-19 -- large experiments produce such z's.
"""
import math
from typing import Tuple


def normal_cdf(x: float) -> float:
    """Phi(x), the standard normal CDF, as a float.

    Accurate to a relative error below 1e-10 everywhere, including far in the lower tail
    (``normal_cdf(-30)`` is about 4.9e-198, not 0).  ``normal_cdf(-inf) = 0``, ``normal_cdf(inf) = 1``.
    """
    ### BEGIN SOLUTION
    return 0.5 * math.erfc(-x / math.sqrt(2.0))
    ### END SOLUTION


def normal_ppf(p: float) -> float:
    """The inverse of :func:`normal_cdf`: the ``x`` with ``Phi(x) = p``, as a float.

    Accurate to ``1e-9 * max(1, |x|)`` for every ``p`` in ``(0, 1)``, in both tails
    (``normal_ppf(1e-300)`` is about -37.05; ``normal_ppf(1 - 1e-12)`` about 7.03).
    ``normal_ppf(0) = -inf``, ``normal_ppf(1) = inf``; ``p`` outside ``[0, 1]`` raises ``ValueError``.
    """
    ### BEGIN SOLUTION
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p must be in [0, 1], got {p}")
    if p == 0.0:
        return -math.inf
    if p == 1.0:
        return math.inf
    if p > 0.5:
        return -normal_ppf(1.0 - p)        # 1 - p is exact for p in [0.5, 1]; Phi near 1 is not
    lo, hi = -40.0, 0.0                     # Phi(-40) underflows to 0 < p
    for _ in range(100):                    # bisection: 40 / 2^100 is far below the accuracy needed
        mid = (lo + hi) / 2
        if normal_cdf(mid) < p:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2
    ### END SOLUTION


def two_proportion_ztest(x_a: int, n_a: int, x_b: int, n_b: int) -> Tuple[float, float]:
    """Pooled two-proportion z-test of H0: the two conversion rates are equal.

    Args:
        x_a, n_a: conversions and users of the control arm A (``0 <= x_a <= n_a``, ``n_a >= 1``).
        x_b, n_b: the same for the treatment arm B.

    Returns:
        ``(z, p_value)`` as floats: ``z = (x_b/n_b - x_a/n_a) / se_pooled`` (positive when B converts
        more) and the two-sided p-value ``2 (1 - Phi(|z|))``, accurate to a relative 1e-9 even when
        it is tiny (|z| = 20 gives about 5.5e-89).  When the pooled rate is 0 or 1 (no variance at
        all) the test has no evidence: ``(0.0, 1.0)``.
    """
    ### BEGIN SOLUTION
    p_a, p_b = x_a / n_a, x_b / n_b
    pooled = (x_a + x_b) / (n_a + n_b)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    if se == 0.0:
        return 0.0, 1.0
    z = (p_b - p_a) / se
    return z, 2.0 * normal_cdf(-abs(z))     # the lower tail keeps tiny p-values exact
    ### END SOLUTION


def diff_confidence_interval(x_a: int, n_a: int, x_b: int, n_b: int,
                             alpha: float = 0.05) -> Tuple[float, float]:
    """Two-sided ``1 - alpha`` Wald confidence interval for the lift ``p_b - p_a``.

    Uses the unpooled standard error ``sqrt(p_a (1 - p_a) / n_a + p_b (1 - p_b) / n_b)`` and the
    critical value ``z = Phi^{-1}(1 - alpha / 2)``.

    Returns:
        ``(low, high) = (diff - z se, diff + z se)`` as floats, ``diff = x_b/n_b - x_a/n_a``.
    """
    ### BEGIN SOLUTION
    p_a, p_b = x_a / n_a, x_b / n_b
    se = math.sqrt(p_a * (1 - p_a) / n_a + p_b * (1 - p_b) / n_b)
    z = normal_ppf(1 - alpha / 2)
    diff = p_b - p_a
    return diff - z * se, diff + z * se
    ### END SOLUTION


def sample_size_per_arm(baseline: float, mde: float, alpha: float = 0.05, power: float = 0.8) -> int:
    """Users needed in EACH arm to detect an absolute change ``mde`` of the ``baseline`` rate.

    Args:
        baseline: the control rate ``p1`` in ``(0, 1)``.
        mde: the minimum detectable effect, an absolute difference (``0.01`` = one percentage
            point), positive or negative, with ``p2 = baseline + mde`` in ``(0, 1)``.
        alpha: the two-sided significance level.
        power: the probability of rejecting H0 when the true difference is ``mde``.

    Returns:
        the int ``ceil((z_{1-alpha/2} sqrt(2 pbar (1 - pbar)) + z_{power} sqrt(p1 (1 - p1) + p2 (1 - p2)))^2 / mde^2)``,
        ``pbar = (p1 + p2) / 2``.
    """
    ### BEGIN SOLUTION
    p1, p2 = baseline, baseline + mde
    pbar = (p1 + p2) / 2
    z_alpha = normal_ppf(1 - alpha / 2)
    z_beta = normal_ppf(power)
    root = z_alpha * math.sqrt(2 * pbar * (1 - pbar)) + z_beta * math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))
    return math.ceil(root ** 2 / mde ** 2)
    ### END SOLUTION
