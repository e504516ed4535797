"""Visible checks: Phi and its inverse at familiar points, and one worked A/B test: 200 of 1000
conversions in control against 250 of 1000 in treatment."""
import torch

from mlkata.checks import Fail, check, describe, expect_close, probe


@probe
def many(sub, name, arglist):
    """``[sub.<name>(*args) for args in arglist]``."""
    fn = getattr(sub, name)
    return [fn(*args) for args in arglist]


def pair(got, rule, what):
    """Judge side: a (float, float) pair."""
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        raise Fail(rule, f"{what}: expected a pair of floats, your code returned {describe(got)}")
    return got


@check("normal_cdf(0) = 0.5, normal_cdf(1.96) = 0.9750; normal_ppf(0.975) = 1.95996, normal_ppf(0.5) = 0")
def familiar_points(run):
    cdf = run(many, "normal_cdf", [(0.0,), (1.96,), (-1.0,)])
    want = torch.special.ndtr(torch.tensor([0.0, 1.96, -1.0], dtype=torch.float64)).tolist()
    expect_close(cdf, want, "Phi(x) = (1 + erf(x / sqrt(2))) / 2", rtol=1e-10, atol=0, what="normal_cdf(0, 1.96, -1)")
    ppf = run(many, "normal_ppf", [(0.975,), (0.5,), (0.8,)])
    want = torch.special.ndtri(torch.tensor([0.975, 0.5, 0.8], dtype=torch.float64)).tolist()
    expect_close(ppf, want, "normal_ppf is the inverse of normal_cdf: Phi(normal_ppf(p)) = p", rtol=1e-9,
                 atol=1e-9, what="normal_ppf(0.975, 0.5, 0.8)")


@check("200/1000 vs 250/1000: pooled z = 2.6774, two-sided p = 0.0074196")
def worked_ztest(run):
    got = pair(run("two_proportion_ztest", 200, 1000, 250, 1000), "return (z, p_value)", "two_proportion_ztest")
    pooled = 450 / 2000
    z = (0.25 - 0.20) / (pooled * (1 - pooled) * (2 / 1000)) ** 0.5
    expect_close(got[0], z, "z = (rate_b - rate_a) / sqrt(p (1 - p) (1/n_a + 1/n_b)) with the POOLED rate "
                 "p = (x_a + x_b) / (n_a + n_b)", rtol=1e-9, atol=0, what="z")
    expect_close(got[1], 0.007419649261025672, "the two-sided p-value is 2 (1 - Phi(|z|))", rtol=1e-8, atol=0,
                 what="p_value")


@check("95% interval for 0.25 - 0.20 with the unpooled standard error: (0.013464, 0.086536)")
def worked_interval(run):
    got = pair(run("diff_confidence_interval", 200, 1000, 250, 1000), "return (low, high)",
               "diff_confidence_interval")
    se = (0.2 * 0.8 / 1000 + 0.25 * 0.75 / 1000) ** 0.5
    z = 1.959963984540054
    expect_close(list(got), [0.05 - z * se, 0.05 + z * se], "the interval is diff -+ Phi^{-1}(1 - alpha/2) * "
                 "sqrt(p_a (1 - p_a) / n_a + p_b (1 - p_b) / n_b) -- not pooled", rtol=1e-9, atol=0,
                 what="(low, high)")


@check("baseline 10%, +2 points, alpha 0.05, power 0.8: 3841 users per arm")
def worked_sample_size(run):
    got = run("sample_size_per_arm", 0.10, 0.02)
    if isinstance(got, bool) or not isinstance(got, int):
        raise Fail("sample_size_per_arm returns an int (a number of users, rounded up)",
                   f"your code returned {describe(got)}")
    expect_close(got, 3841, "n = ceil((z_{1-alpha/2} sqrt(2 pbar qbar) + z_power sqrt(p1 q1 + p2 q2))^2 / mde^2)",
                 rtol=0, atol=0, what="sample_size_per_arm(0.10, 0.02)")
