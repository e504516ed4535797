"""Hidden graders of systems/drift_psi: edges, PSI and KS against plain-Python loops (sorted lists,
bisect, a merge walk over both samples), the open outer bins, eps for empty bins, right-closed
bins on tied data, KS with ties, the drift thresholds, and extreme inputs.  Agreement of these
oracles and of the reference with scipy.stats.ks_2samp and numpy.quantile is in
tests/test_twins_systems_drift_psi.py."""
import bisect
import math

import torch

from mlkata.checks import check, describe, expect, expect_close, expect_equal, expect_tensor, visible_module

V = visible_module("systems/drift_psi")
F64 = torch.float64


# ---------------------------------------------------------------- oracles (plain Python)

def loop_quantile(values, q):
    s = sorted(values)
    pos = q * (len(s) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (pos - lo) * (s[hi] - s[lo])


def loop_edges(reference, n_bins):
    values = [float(v) for v in reference.tolist()]
    return [loop_quantile(values, i / n_bins) for i in range(1, n_bins)]


def loop_psi(reference, current, n_bins=10, eps=1e-4):
    edges = loop_edges(reference, n_bins)

    def proportions(x):
        counts = [0] * n_bins
        for v in x.tolist():
            counts[bisect.bisect_left(edges, float(v))] += 1         # number of edges strictly below v
        return [c / len(x) if c else eps for c in counts]

    ref, cur = proportions(reference), proportions(current)
    return sum((c - r) * math.log(c / r) for r, c in zip(ref, cur))


def loop_ks(a, b):
    a, b = sorted(float(v) for v in a.tolist()), sorted(float(v) for v in b.tolist())
    i = j = 0
    best = 0.0
    while i < len(a) or j < len(b):
        x = min(a[i] if i < len(a) else math.inf, b[j] if j < len(b) else math.inf)
        while i < len(a) and a[i] == x:                              # a tied group moves the CDF at once
            i += 1
        while j < len(b) and b[j] == x:
            j += 1
        best = max(best, abs(i / len(a) - j / len(b)))
    return best


def samples(seed, n, m, shift=0.0, scale=1.0, kind="normal"):
    g = torch.Generator().manual_seed(seed)
    if kind == "lognormal":
        return torch.randn(n, generator=g).exp(), (torch.randn(m, generator=g) * scale + shift).exp()
    if kind == "discrete":
        return (torch.randint(0, 6, (n,), generator=g).to(F64),
                (torch.randint(0, 6, (m,), generator=g) + (torch.rand(m, generator=g) < shift)).to(F64))
    return torch.randn(n, generator=g), torch.randn(m, generator=g) * scale + shift


NUM = "return a Python float"


@check("quantile_bin_edges agrees with linear-interpolation quantiles on random samples (2 to 20 bins)", points=2)
def edges_random(run):
    for seed, n, bins, kind in [(0, 1000, None, "normal"), (1, 37, 5, "lognormal"), (2, 501, 20, "normal"),
                                (3, 200, 7, "discrete"), (4, 1, 4, "normal"), (5, 2, 2, "normal")]:
        ref, _ = samples(seed, n, 1, kind=kind)
        got = run("quantile_bin_edges", ref) if bins is None else run("quantile_bin_edges", ref, bins)
        bins = bins or 10                                          # the default: deciles
        got = expect_tensor(got, "quantile_bin_edges returns the n_bins - 1 inner (n_bins = 10 by default) "
                            "edges as a float64 tensor", shape=(bins - 1,), dtype=F64)
        expect_close(got, torch.tensor(loop_edges(ref, bins), dtype=F64), "edge i is the reference's quantile at "
                     "i / n_bins, interpolating linearly at pos = q (N - 1) between sorted values", rtol=1e-12,
                     atol=1e-12, what=f"edges of {n} {kind} values, {bins} bins")


@check("PSI agrees with a loop over quantile bins on random reference/current pairs", points=2)
def psi_random(run):
    for seed, n, m, shift, scale, kind, bins in [(10, 2000, 1500, 0.0, 1.0, "normal", 10),
                                                 (11, 2000, 3000, 0.3, 1.0, "normal", 10),
                                                 (12, 800, 800, 0.0, 1.6, "normal", 5),
                                                 (13, 1000, 400, 0.5, 1.0, "lognormal", 20),
                                                 (14, 300, 5000, 1.0, 0.5, "normal", 8)]:
        ref, cur = samples(seed, n, m, shift, scale, kind)
        got = V.number(run(V.psi, ref, cur, bins)["out"], NUM, "PSI")
        expect_close(got, loop_psi(ref, cur, bins), "PSI = sum_i (cur_i - ref_i) ln(cur_i / ref_i) over the "
                     "reference's quantile bins (outer bins open, empty bins -> eps)", rtol=1e-9, atol=1e-12,
                     what=f"PSI ({kind}, shift {shift}, scale {scale}, {bins} bins)")


@check("current values outside the reference's range count in the open outer bins (never dropped)")
def open_outer_bins(run):
    ref, _ = samples(20, 1000, 1)
    for cur, name in ((ref + 100.0, "every value above the reference's max"),
                      (torch.cat([ref[:500], ref[:500] - 50.0]), "half of it below the reference's min")):
        got = V.number(run(V.psi, ref, cur)["out"], NUM, "PSI")
        expect_close(got, loop_psi(ref, cur), "the first bin is (-inf, e_1] and the last (e_{n-1}, +inf): values "
                     "beyond the reference's range belong to them -- a histogram over [min, max] drops them",
                     rtol=1e-9, what=f"PSI with {name}")


@check("empty bins use eps in place of a zero proportion (the default 1e-4, and a given eps)")
def eps_for_empty_bins(run):
    ref = torch.arange(100.0)                                   # 10 bins of 10 values each
    cur = torch.cat([torch.full((30,), 5.0), torch.full((70,), 95.0)])   # only the first and last bin
    for eps in (1e-4, 1e-2):
        got = V.number(run(V.psi, ref, cur, 10, eps)["out"], NUM, "PSI")
        want = (0.3 - 0.1) * math.log(3) + (0.7 - 0.1) * math.log(7) + 8 * (eps - 0.1) * math.log(eps / 0.1)
        expect_close(got, want, "an empty bin would give ln(0): replace its proportion (exactly 0) by eps, keep "
                     "the other proportions as they are", rtol=1e-9, what=f"PSI with 8 empty bins, eps={eps}")


@check("bins are right-closed on tied data: a value equal to an edge falls in the bin below it")
def ties_right_closed(run):
    ref = torch.tensor([0.0] * 50 + [1.0] * 30 + [2.0] * 20)   # edges for 4 bins: 0, 0.5, 1
    cases = [(ref, torch.tensor([0.0] * 20 + [1.0] * 60 + [2.0] * 20), 4),
             (ref, torch.tensor([0.5] * 10 + [1.0] * 40 + [3.0] * 50), 4)]
    a, b = samples(21, 600, 600, shift=0.3, kind="discrete")
    cases.append((a, b, 10))
    for reference, current, bins in cases:
        got = V.number(run(V.psi, reference, current, bins)["out"], NUM, "PSI")
        expect_close(got, loop_psi(reference, current, bins), "the bin index of x is the number of edges strictly "
                     "below x (bins (e_{i-1}, e_i], as torch.bucketize(x, edges) with right=False)", rtol=1e-9,
                     atol=1e-12, what=f"PSI on tied values, {bins} bins")


@check("ks_statistic agrees with a merge walk over both sorted samples (different sizes, with ties)", points=2)
def ks_random(run):
    for seed, n, m, shift, scale, kind in [(30, 500, 300, 0.2, 1.0, "normal"), (31, 1000, 1000, 0.0, 1.0, "normal"),
                                           (32, 50, 700, 0.0, 2.0, "lognormal"), (33, 400, 250, 0.4, 1.0, "discrete"),
                                           (34, 333, 334, 0.0, 1.0, "discrete")]:
        a, b = samples(seed, n, m, shift, scale, kind)
        got = V.number(run(V.ks, a, b)["out"], "return the KS statistic as a float", "KS")
        expect_close(got, loop_ks(a, b), "D = max over the observed values x of |F_a(x) - F_b(x)|, F_a(x) the "
                     "fraction of a <= x: a tied group moves a CDF all at once", rtol=1e-12, atol=1e-12,
                     what=f"KS ({kind}, sizes {n} and {m})")


@check("KS is 0 for identical samples, 1 for separated ones, and handles one-element samples")
def ks_edges(run):
    x, _ = samples(40, 200, 1)
    cases = [(x, x.flip(0), 0.0, "a sample and its reverse"), (x, x + 100.0, 1.0, "separated samples"),
             (torch.tensor([1.0]), torch.tensor([1.0]), 0.0, "[1] and [1]"),
             (torch.tensor([1.0, 1.0, 2.0]), torch.tensor([1.0, 2.0, 2.0]), 1 / 3, "[1, 1, 2] and [1, 2, 2]")]
    for a, b, want, name in cases:
        got = V.number(run(V.ks, a, b)["out"], "return the KS statistic as a float", "KS")
        expect_close(got, want, "compare the CDFs only after whole tied groups: equal values across the samples "
                     "move both CDFs together", rtol=1e-12, atol=1e-12, what=f"KS of {name}")


@check("drift_level follows the thresholds exactly: < 0.1 none, 0.1 to 0.25 moderate, > 0.25 significant")
def drift_thresholds(run):
    values = [0.0, 0.0999, 0.1, 0.17, 0.25, 0.2501, 3.0]
    want = ["none", "none", "moderate", "moderate", "moderate", "significant", "significant"]
    expect_equal(run(V.levels, values), want, "0.1 is already 'moderate' and 0.25 still 'moderate'; return exactly "
                 "'none', 'moderate' or 'significant'", what=f"drift_level of {values}")


@check("PSI and KS return Python floats, give the same value for float32 and float64, and leave their inputs untouched")
def types_and_inputs(run):
    ref, cur = samples(50, 300, 200, 0.2)
    seen = {}
    for r, c in ((ref, cur), (ref.double(), cur.double())):
        got = run(V.psi, r, c)
        expect(isinstance(got["out"], float), "population_stability_index returns a Python float (float(...))",
               f"your code returned {describe(got['out'])}")
        seen[r.dtype] = got["out"]
        expect_close(got["out"], loop_psi(ref, cur), "PSI = sum over the reference's decile bins of (cur - ref) * "
                     "ln(cur / ref), empty bins at eps", rtol=1e-9, what=f"PSI of the {r.dtype} samples")
        expect_equal(got["reference_after"], r, "population_stability_index must not modify reference",
                     what="reference afterwards")
        expect_equal(got["current_after"], c, "population_stability_index must not modify current",
                     what="current afterwards")
        got = run(V.ks, r, c)
        expect_close(got["out"], loop_ks(ref, cur), "D = max over x of |F_a(x) - F_b(x)|", rtol=1e-9,
                     what=f"KS of the {r.dtype} samples")
        expect(isinstance(got["out"], float), "ks_statistic returns a Python float (float(...))",
               f"your code returned {describe(got['out'])}")
        expect_equal(got["a_after"], r, "ks_statistic must not modify its inputs (sort a copy)", what="sample_a afterwards")
    expect_close(seen[torch.float32], seen[F64], "work in float64 whatever the input dtype: the float32 samples hold "
                 "exactly the same values", rtol=1e-9, what="PSI of the float32 samples (vs. your float64 result)")


@check("extreme inputs stay finite: a constant reference, values around 1e30, a current sample far from the reference")
def extreme_inputs(run):
    const = torch.full((100,), 3.0)
    big, _ = samples(60, 500, 1)
    cases = [(const, const, "constant reference, same current"),
             (const, torch.full((50,), 4.0), "constant reference, shifted current"),
             (big * 1e30, big * 1e30 + 3e29, "values around 1e30"),
             (big, big + 1e6, "current 1e6 away")]
    for r, c, name in cases:
        got = V.number(run(V.psi, r, c)["out"], NUM, "PSI")
        expect(math.isfinite(got), "PSI stays finite: empty bins use eps, never ln(0) or 0/0", f"PSI of {name} is {got}")
        expect_close(got, loop_psi(r, c), "PSI on degenerate or extreme samples: equal edges give empty bins, "
                     "which contribute (eps - eps) ln(1) = 0", rtol=1e-9, atol=1e-12, what=f"PSI of {name}")
