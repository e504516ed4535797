# CORRECT, written differently: hand-rolled interpolated quantiles, bin counts by broadcast comparison with the edges, KS via unique values and counting.
"""Drift monitors without torch.quantile / bucketize / searchsorted."""
import math

import torch


def quantile_bin_edges(reference, n_bins=10):
    s = reference.double().sort().values
    n = s.numel()
    out = []
    for i in range(1, n_bins):
        pos = i / n_bins * (n - 1)
        lo = int(math.floor(pos))
        hi = min(lo + 1, n - 1)
        out.append(s[lo] + (pos - lo) * (s[hi] - s[lo]))
    return torch.stack(out)


def population_stability_index(reference, current, n_bins=10, eps=1e-4):
    edges = quantile_bin_edges(reference, n_bins)

    def fractions(x):
        bin_of = (x.double()[:, None] > edges[None, :]).sum(1)            # edges strictly below
        counts = torch.stack([(bin_of == i).sum() for i in range(n_bins)]).double()
        frac = counts / x.numel()
        frac[frac == 0] = eps
        return frac

    e, a = fractions(reference), fractions(current)
    return sum(float((ai - ei) * math.log(ai / ei)) for ei, ai in zip(e.tolist(), a.tolist()))


def ks_statistic(sample_a, sample_b):
    a, b = sample_a.double(), sample_b.double()
    xs = torch.unique(torch.cat([a, b]))                                  # sorted distinct values
    fa = (a[None, :] <= xs[:, None]).double().mean(1)
    fb = (b[None, :] <= xs[:, None]).double().mean(1)
    return (fa - fb).abs().max().item()


def drift_level(psi):
    return "significant" if psi > 0.25 else ("none" if psi < 0.1 else "moderate")
