"""Visible checks: edges of 1..9, PSI of a sample against itself and of a hand-worked shift, the
KS distance of two small samples, and the drift levels."""
import math

import torch

from mlkata.checks import Fail, check, describe, expect_close, expect_equal, expect_tensor, probe


@probe
def psi(sub, reference, current, *args):
    out = sub.population_stability_index(reference, current, *args)
    return {"out": out, "reference_after": reference, "current_after": current}


@probe
def ks(sub, a, b):
    return {"out": sub.ks_statistic(a, b), "a_after": a, "b_after": b}


@probe
def levels(sub, values):
    return [sub.drift_level(v) for v in values]


def number(x, rule, what):
    """Judge side: a Python float (or a one-element tensor, accepted but reported by plain_types)."""
    if isinstance(x, torch.Tensor) and x.numel() == 1:
        return float(x)
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise Fail(rule, f"{what}: expected a float, your code returned {describe(x)}")
    return float(x)


@check("the edges of 1, 2, ..., 9 in 4 bins are the quartiles 3, 5, 7")
def edges_small(run):
    got = run("quantile_bin_edges", torch.arange(1.0, 10.0), 4)
    expect_tensor(got, "quantile_bin_edges returns the n_bins - 1 inner edges as a float64 tensor", shape=(3,),
                  dtype=torch.float64)
    expect_close(got, torch.tensor([3.0, 5.0, 7.0], dtype=torch.float64), "edges are the reference quantiles at "
                 "1/n_bins, ..., (n_bins-1)/n_bins (no min, no max)", rtol=1e-12, atol=0, what="edges")


@check("a sample has PSI 0 against itself -- and well above 0.25 against itself shifted by one std")
def psi_identity(run):
    x = torch.randn(500, generator=torch.Generator().manual_seed(0))
    got = number(run(psi, x, x)["out"], "return the PSI as a float", "PSI(x, x)")
    expect_close(got, 0.0, "identical samples fill identical bins: every term (cur - ref) ln(cur / ref) is 0",
                 atol=1e-12, what="PSI(x, x)")
    got = number(run(psi, x, x + 1.0)["out"], "return the PSI as a float", "PSI(x, x + 1)")
    if not got > 0.25:
        raise Fail("a shift by one standard deviation moves most of the mass across the decile bins: "
                   "PSI far above 0.25", f"PSI(x, x + 1) = {got:.4g}")


@check("two bins, reference 1..4, current [1, 1, 1, 4]: PSI = (0.75 - 0.5) ln(1.5) + (0.25 - 0.5) ln(0.5)")
def psi_two_bins(run):
    ref = torch.tensor([1.0, 2.0, 3.0, 4.0])                 # median 2.5: bins (-inf, 2.5], (2.5, inf)
    cur = torch.tensor([1.0, 1.0, 1.0, 4.0])
    got = number(run(psi, ref, cur, 2)["out"], "return the PSI as a float", "PSI")
    want = (0.75 - 0.5) * math.log(0.75 / 0.5) + (0.25 - 0.5) * math.log(0.25 / 0.5)
    expect_close(got, want, "PSI = sum over bins of (cur_i - ref_i) * ln(cur_i / ref_i), with the fractions of "
                 "each sample in the reference's quantile bins", rtol=1e-12, atol=0, what="PSI")


@check("KS of [1, 2, 3] and [2.5, 3.5]: the empirical CDFs differ by at most 2/3 (at x = 2)")
def ks_small(run):
    got = number(run(ks, torch.tensor([1.0, 2.0, 3.0]), torch.tensor([2.5, 3.5]))["out"],
                 "return the KS statistic as a float", "KS")
    expect_close(got, 2 / 3, "D = max over x of |F_a(x) - F_b(x)|, F the fraction of a sample <= x", rtol=1e-12,
                 atol=0, what="KS([1, 2, 3], [2.5, 3.5])")


@check("drift_level: 0.05 none, 0.1 moderate, 0.25 moderate, 0.3 significant")
def drift_levels(run):
    expect_equal(run(levels, [0.05, 0.1, 0.25, 0.3]), ["none", "moderate", "moderate", "significant"],
                 "PSI < 0.1 is 'none', 0.1 <= PSI <= 0.25 'moderate', PSI > 0.25 'significant'",
                 what="drift_level of 0.05, 0.1, 0.25, 0.3")
