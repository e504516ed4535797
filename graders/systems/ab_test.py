"""Hidden graders of systems/ab_test: Phi and its inverse on grids reaching both tails (oracles:
torch.special.log_ndtr and torch.special.ndtri in float64), the z-test, interval and sample size
against the formulas computed here in float64, tiny p-values, and the degenerate and error cases.
Agreement with scipy.stats (and statsmodels when installed) is in tests/test_twins_systems_ab_test.py."""
import math

import torch

from mlkata.checks import Fail, check, describe, expect, expect_close, probe, visible_module

V = visible_module("systems/ab_test")
F64 = torch.float64


@probe
def raises(sub, name, arglist):
    """For every args: the name of the exception ``sub.<name>(*args)`` raises, or None."""
    out = []
    for args in arglist:
        try:
            getattr(sub, name)(*args)
            out.append(None)
        except NotImplementedError:
            raise
        except Exception as e:  # noqa: BLE001 - reported to the check
            out.append(type(e).__name__)
    return out


# ---------------------------------------------------------------- oracles (float64 torch)

def Phi(x):
    return math.exp(float(torch.special.log_ndtr(torch.tensor(x, dtype=F64))))


def Phi_inv(p):
    return float(torch.special.ndtri(torch.tensor(p, dtype=F64)))


def oracle_ztest(x_a, n_a, x_b, n_b):
    x_a, n_a, x_b, n_b = (torch.tensor(float(v), dtype=F64) for v in (x_a, n_a, x_b, n_b))
    pooled = (x_a + x_b) / (n_a + n_b)
    se = torch.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    if float(se) == 0:
        return 0.0, 1.0
    z = float((x_b / n_b - x_a / n_a) / se)
    return z, 2 * Phi(-abs(z))


def oracle_interval(x_a, n_a, x_b, n_b, alpha=0.05):
    p_a, p_b = x_a / n_a, x_b / n_b
    se = math.sqrt(p_a * (1 - p_a) / n_a + p_b * (1 - p_b) / n_b)
    z = Phi_inv(1 - alpha / 2)
    return [p_b - p_a - z * se, p_b - p_a + z * se]


def oracle_sample_size_exact(baseline, mde, alpha=0.05, power=0.8):
    """The value before rounding up (float64)."""
    p1, p2 = baseline, baseline + mde
    pbar = (p1 + p2) / 2
    root = Phi_inv(1 - alpha / 2) * math.sqrt(2 * pbar * (1 - pbar)) + Phi_inv(power) * math.sqrt(
        p1 * (1 - p1) + p2 * (1 - p2))
    return root ** 2 / mde ** 2


def experiments(seed, count):
    """Random (x_a, n_a, x_b, n_b): unequal arms from 30 to 2e6 users, rates 0.5% to 60%."""
    g = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(count):
        n_a, n_b = (int(10 ** torch.empty(1).uniform_(1.5, 6.3, generator=g)) for _ in range(2))
        r_a = float(torch.empty(1).uniform_(0.005, 0.6, generator=g))
        r_b = r_a * float(torch.empty(1).uniform_(0.8, 1.25, generator=g))
        out.append((int(r_a * n_a), n_a, min(int(r_b * n_b), n_b), n_b))
    return out


PAIR = "return a pair of floats"


@check("normal_cdf agrees with the standard normal CDF from x = -37 to 9, to a relative 1e-10", points=2)
def cdf_grid(run):
    xs = [-37.0, -30.0, -20.5, -12.0, -8.3, -5.0] + torch.linspace(-4, 4, 33, dtype=F64).tolist() + [6.0, 8.5, 9.0]
    got = run(V.many, "normal_cdf", [(x,) for x in xs])
    want = [Phi(x) for x in xs]
    expect_close(got, want, "Phi(x) to a relative 1e-10 everywhere: compute the lower tail as erfc(-x / sqrt 2) / 2 "
                 "-- 1 + erf(x / sqrt 2) cancels to 0 below x = -8", rtol=1e-10, atol=0, what="normal_cdf")


@check("normal_ppf inverts Phi across (0, 1): p from 1e-300 to 1 - 1e-15, accurate to 1e-9 * max(1, |x|)",
       points=2)
def ppf_grid(run):
    low = [10.0 ** -e for e in (300, 200, 100, 50, 20, 12, 8, 5, 3, 2)]
    mid = torch.linspace(0.02, 0.98, 25, dtype=F64).tolist() + [0.5, 0.025, 0.975, 0.8, 0.9]
    high = [1 - 10.0 ** -e for e in (2, 3, 5, 8, 10, 12, 15)]
    ps = low + mid + high
    got = run(V.many, "normal_ppf", [(p,) for p in ps])
    shown = {"lower tail": "p = 10^-k for k = 300, 200, 100, 50, 20, 12, 8, 5, 3, 2",
             "middle": "p = 0.02, 0.06, ..., 0.98, then 0.5, 0.025, 0.975, 0.8, 0.9",
             "upper tail": "p = 1 - 10^-k for k = 2, 3, 5, 8, 10, 12, 15"}
    for name, part, offset in (("lower tail", low, 0), ("middle", mid, len(low)), ("upper tail", high, len(low) + len(mid))):
        want = [Phi_inv(p) for p in part]
        rule = {"lower tail": "normal_ppf must be accurate deep in the lower tail (search down to x = -40)",
                "middle": "normal_ppf(p) is the x with Phi(x) = p",
                "upper tail": "near p = 1, Phi(x) is within 1e-16 of 1 and a direct search loses all precision: use "
                              "normal_ppf(p) = -normal_ppf(1 - p) for p > 1/2"}[name]
        expect_close(got[offset:offset + len(part)], want, rule, rtol=1e-9, atol=1e-9,
                     what=f"normal_ppf, {name} ({shown[name]})")


@check("normal_ppf(0) = -inf, normal_ppf(1) = inf; p outside [0, 1] raises ValueError")
def ppf_edges(run):
    got = run(V.many, "normal_ppf", [(0.0,), (1.0,)])
    expect(got == [-math.inf, math.inf], "normal_ppf(0) = -inf and normal_ppf(1) = +inf", f"your code returned {got}")
    kinds = run(raises, "normal_ppf", [(-0.1,), (1.5,)])
    expect(kinds == ["ValueError", "ValueError"], "a probability outside [0, 1] raises ValueError",
           f"normal_ppf(-0.1) and normal_ppf(1.5) raised {kinds}")


@check("two_proportion_ztest agrees with the pooled z-test on random experiments (unequal arms)", points=2)
def ztest_random(run):
    cases = experiments(0, 30)
    got = run(V.many, "two_proportion_ztest", cases)
    for case, g in zip(cases, got):
        g = V.pair(g, PAIR, f"two_proportion_ztest{case}")
        z, p = oracle_ztest(*case)
        expect_close(g[0], z, "z = (x_b/n_b - x_a/n_a) / sqrt(p (1 - p) (1/n_a + 1/n_b)), p the pooled rate: "
                     "positive when B converts more", rtol=1e-9, atol=1e-12, what=f"z of {case}")
        expect_close(g[1], p, "the p-value is two-sided, 2 Phi(-|z|), accurate to a relative 1e-8 even when it is "
                     "tiny", rtol=1e-8, atol=0, what=f"p_value of {case}")


@check("tiny p-values stay accurate: |z| from 11 to 36 gives p from 7e-30 down to 4e-282, not 0")
def tiny_pvalues(run):
    cases = [(5000, 10000, 5800, 10000), (100000, 1000000, 115000, 1000000), (40000, 200000, 45100, 200000),
             (58000, 100000, 50000, 100000)]
    got = run(V.many, "two_proportion_ztest", cases)
    for case, g in zip(cases, got):
        g = V.pair(g, PAIR, f"two_proportion_ztest{case}")
        z, p = oracle_ztest(*case)
        expect_close(g[1], p, "compute the two-sided p-value as 2 Phi(-|z|) in the lower tail: 2 (1 - Phi(|z|)) "
                     "rounds to 0 for |z| > 8.3", rtol=1e-8, atol=0, what=f"p_value of {case} (z = {z:.2f})")


@check("a pooled rate of 0 or 1 (no variance) gives z = 0 and p = 1, not a division by zero")
def ztest_degenerate(run):
    got = run(V.many, "two_proportion_ztest", [(0, 100, 0, 250), (40, 40, 90, 90)])
    for case, g in zip(["0/100 vs 0/250", "40/40 vs 90/90"], got):
        g = V.pair(g, PAIR, f"two_proportion_ztest({case})")
        expect_close(list(g), [0.0, 1.0], "when the pooled rate is 0 or 1 the standard error is 0: the test has no "
                     "evidence, return (0.0, 1.0)", rtol=0, atol=0, what=f"(z, p_value) for {case}")


@check("diff_confidence_interval agrees with the unpooled Wald interval for alpha 0.2, 0.1, 0.05, 0.01", points=2)
def interval_random(run):
    cases = experiments(1, 16)
    alphas = [0.2, 0.1, 0.05, 0.01]
    args = [c + (alphas[i % 4],) for i, c in enumerate(cases)]
    got = run(V.many, "diff_confidence_interval", args)
    for a, g in zip(args, got):
        g = V.pair(g, PAIR, f"diff_confidence_interval{a}")
        expect_close(list(g), oracle_interval(*a), "the interval is (p_b - p_a) -+ Phi^{-1}(1 - alpha/2) * "
                     "sqrt(p_a (1 - p_a)/n_a + p_b (1 - p_b)/n_b): two-sided, unpooled", rtol=1e-9, atol=1e-12,
                     what=f"(low, high) of {a}")


GRID = [(b, m, a, pw) for b, m in [(0.01, 0.002), (0.05, 0.01), (0.1, 0.02), (0.1, -0.015), (0.3, 0.03),
                                   (0.5, 0.05), (0.5, -0.1), (0.9, 0.05), (0.02, 0.02), (0.7, -0.2)]
        for a, pw in [(0.05, 0.8), (0.01, 0.9), (0.1, 0.95)]]
# no rounding knife-edges: a Phi^{-1} accurate to 1e-9 moves n by about 1e-8 * n
GRID = [g for g in GRID if min(oracle_sample_size_exact(*g) % 1, 1 - oracle_sample_size_exact(*g) % 1)
        > 1e-6 * oracle_sample_size_exact(*g)]


@check("sample_size_per_arm agrees with the formula on a grid of (baseline, mde, alpha, power) settings", points=2)
def sample_size_grid(run):
    got = run(V.many, "sample_size_per_arm", GRID)
    for args, g in zip(GRID, got):
        if isinstance(g, bool) or not isinstance(g, int):
            raise Fail("sample_size_per_arm returns an int", f"sample_size_per_arm{args} returned {describe(g)}")
        exact = oracle_sample_size_exact(*args)
        want = math.ceil(exact)
        if g != want:
            raise Fail("n = ceil((z_{1-alpha/2} sqrt(2 pbar (1 - pbar)) + z_power sqrt(p1 (1 - p1) + p2 (1 - p2)))^2 "
                       "/ mde^2) with p2 = baseline + mde, a TWO-sided alpha, and rounding UP",
                       f"sample_size_per_arm{args}: expected {want} (before rounding {exact:.3f}), your code "
                       f"returned {g}")


@check("the results are plain Python numbers: floats for the test, the interval, Phi and its inverse")
def plain_types(run):
    case = (30, 200, 45, 210)
    got = [V.pair(run(V.many, "two_proportion_ztest", [case])[0], PAIR, "two_proportion_ztest"),
           V.pair(run(V.many, "diff_confidence_interval", [case])[0], PAIR, "diff_confidence_interval"),
           run(V.many, "normal_cdf", [(0.3,)]), run(V.many, "normal_ppf", [(0.3,)])]
    want = [oracle_ztest(*case), oracle_interval(*case), [Phi(0.3)], [Phi_inv(0.3)]]
    for name, g, w in zip(("two_proportion_ztest", "diff_confidence_interval", "normal_cdf", "normal_ppf"), got, want):
        expect_close(list(g), list(w), f"{name} agrees with its definition (scipy.stats)", rtol=1e-6, atol=1e-9,
                     what=f"{name} on {case if len(w) == 2 else (0.3,)}")
    flat = list(got[0]) + list(got[1]) + got[2] + got[3]
    bad = [describe(v) for v in flat if isinstance(v, bool) or not isinstance(v, float)]
    expect(not bad, "return Python floats (float(...)), not tensors, numpy scalars or ints",
           f"your code returned {', '.join(bad)}")
