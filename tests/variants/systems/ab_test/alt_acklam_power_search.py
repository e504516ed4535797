# CORRECT, written differently: Acklam's rational approximation refined by Halley steps; sample size by searching the smallest n whose power reaches the target.
"""A/B test helpers: Acklam's inverse normal, erfc-based tails, and sample size found by search."""
import math

_A = (-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
      1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00)
_B = (-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
      6.680131188771972e+01, -1.328068155288572e+01)
_C = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
      -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00)
_D = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00)


def _horner(coefs, x):
    acc = 0.0
    for c in coefs:
        acc = acc * x + c
    return acc


def normal_cdf(x):
    if x >= 0:
        return 1.0 - 0.5 * math.erfc(x / math.sqrt(2.0))
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def normal_ppf(p):
    if p < 0 or p > 1 or p != p:
        raise ValueError("p must lie in [0, 1]")
    if p in (0.0, 1.0):
        return math.inf if p == 1.0 else -math.inf
    if p > 0.5:
        return -normal_ppf(1.0 - p)
    if p < 0.02425:                                    # lower tail
        q = math.sqrt(-2.0 * math.log(p))
        x = _horner(_C, q) / (_horner(_D, q) * q + 1.0)
    else:                                              # central region
        q = p - 0.5
        r = q * q
        x = _horner(_A, r) * q / (_horner(_B, r) * r + 1.0)
    for _ in range(2):                                 # Halley refinement
        e = normal_cdf(x) - p
        if e == 0.0 or abs(x) > 37.5:
            break
        u = e * math.sqrt(2.0 * math.pi) * math.exp(x * x / 2.0)
        x = x - u / (1.0 + x * u / 2.0)
    return x


def two_proportion_ztest(x_a, n_a, x_b, n_b):
    pooled = (x_a + x_b) / (n_a + n_b)
    var = pooled * (1.0 - pooled) * (n_a + n_b) / (n_a * n_b)
    if var <= 0.0:
        return 0.0, 1.0
    z = (x_b * n_a - x_a * n_b) / (n_a * n_b) / math.sqrt(var)
    return float(z), math.erfc(abs(z) / math.sqrt(2.0))


def diff_confidence_interval(x_a, n_a, x_b, n_b, alpha=0.05):
    pa, pb = x_a / n_a, x_b / n_b
    half = -normal_ppf(alpha / 2) * math.sqrt(pa * (1 - pa) / n_a + pb * (1 - pb) / n_b)
    return (pb - pa) - half, (pb - pa) + half


def sample_size_per_arm(baseline, mde, alpha=0.05, power=0.8):
    p1, p2 = baseline, baseline + mde
    pbar = 0.5 * (p1 + p2)
    s0 = math.sqrt(2 * pbar * (1 - pbar))
    s1 = math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))
    za = normal_ppf(1 - alpha / 2)
    zb = normal_ppf(power)

    def enough(n):            # power(n) >= target  <=>  |mde| sqrt(n) >= za s0 + zb s1
        return abs(mde) * math.sqrt(n) >= za * s0 + zb * s1

    lo, hi = 0, 1
    while not enough(hi):
        hi *= 2
    while hi - lo > 1:        # smallest n with enough(n)
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if enough(mid) else (mid, hi)
    return hi
