"""Data-drift monitoring: the Population Stability Index (PSI) and the two-sample KS statistic.

A model in production sees features whose distribution slowly moves away from the training data.
Two classic monitors compare a *reference* sample (training, or last month) with the *current*
one, feature by feature:

* **PSI** (credit-scoring practice): cut the reference into ``n_bins`` equally populated bins --
  the inner edges are the reference's quantiles ``1/n_bins, ..., (n_bins-1)/n_bins`` -- count the
  proportion of each sample in every bin and add up
  ``PSI = sum_i (cur_i - ref_i) * ln(cur_i / ref_i)``.
  Two details make or break it.  The outer bins are **open** (``(-inf, e_1]`` and
  ``(e_{n-1}, +inf)``), so current values outside the reference's range still count -- a
  histogram over ``[min, max]`` of the reference silently drops them, exactly when drift is worst.
  An **empty** bin would give ``ln(0)``; its proportion is replaced by a small ``eps`` (the rule of
  the widely copied ``psi.py``: only exact zeros are replaced, nothing is renormalised).
  The usual reading: PSI < 0.1 no drift, 0.1-0.25 moderate, > 0.25 significant.
* **KS**: the largest vertical distance between the two empirical CDFs,
  ``D = sup_x |F_a(x) - F_b(x)|``, the statistic of ``scipy.stats.ks_2samp``.  Ties (within and
  across samples) are where hand-written versions go wrong: a CDF jumps by the whole tied group.

Bins are right-closed: a value equal to an edge belongs to the bin below it, i.e. the bin index of
``x`` is the number of edges strictly smaller than ``x`` (``torch.bucketize(x, edges)``).
Quantiles use linear interpolation, numpy's and ``torch.quantile``'s default.
"""
import torch


def quantile_bin_edges(reference: torch.Tensor, n_bins: int = 10) -> torch.Tensor:
    """The ``n_bins - 1`` inner bin edges: the reference's quantiles at ``i / n_bins``, ``i = 1..n_bins-1``.

    Args:
        reference: ``(N,)`` float tensor, ``N >= 1``.
        n_bins: number of bins, ``>= 2``.

    Quantiles are computed in float64 with linear interpolation between order statistics:
    for sorted values ``s`` and level ``q``, ``pos = q (N - 1)`` and the quantile is
    ``s[floor(pos)] + (pos - floor(pos)) (s[floor(pos) + 1] - s[floor(pos)])`` (just ``s[pos]`` when
    ``pos`` is a whole number, e.g. for ``N = 1``: there is no ``s[N]``).  Equal edges (from
    tied data) are kept: the bins between them are empty.

    Returns:
        ``(n_bins - 1,)`` float64 tensor, non-decreasing.  ``reference`` is not modified.
    """
    ### BEGIN SOLUTION
    levels = torch.arange(1, n_bins, dtype=torch.float64) / n_bins
    return torch.quantile(reference.to(torch.float64), levels)
    ### END SOLUTION


def population_stability_index(reference: torch.Tensor, current: torch.Tensor, n_bins: int = 10,
                               eps: float = 1e-4) -> float:
    """PSI of ``current`` against ``reference`` on the reference's quantile bins.

    Args:
        reference: ``(N,)`` float tensor, the baseline sample.
        current: ``(M,)`` float tensor, the sample to monitor.
        n_bins: number of bins (edges from :func:`quantile_bin_edges`; outer bins open).
        eps: the proportion used in place of an exact 0 (empty bin), in either sample.

    ``ref_i`` and ``cur_i`` are the fractions of each sample whose bin index (number of edges
    strictly below the value, compared in float64: float32 samples give the same PSI as their
    float64 copies) is ``i``; zeros become ``eps``;
    ``PSI = sum_i (cur_i - ref_i) ln(cur_i / ref_i)`` (every term is >= 0).

    Returns:
        the PSI as a Python float.  The inputs are not modified.
    """
    ### BEGIN SOLUTION
    edges = quantile_bin_edges(reference, n_bins)                           # (n_bins - 1,)

    def proportions(x):
        idx = torch.bucketize(x.to(torch.float64), edges)                   # edges[i-1] < x <= edges[i]
        p = torch.bincount(idx, minlength=n_bins).to(torch.float64) / x.numel()
        return torch.where(p == 0, torch.full_like(p, eps), p)

    ref, cur = proportions(reference), proportions(current)
    return float(((cur - ref) * torch.log(cur / ref)).sum())
    ### END SOLUTION


def ks_statistic(sample_a: torch.Tensor, sample_b: torch.Tensor) -> float:
    """The two-sample Kolmogorov-Smirnov statistic ``sup_x |F_a(x) - F_b(x)|``.

    Args:
        sample_a: ``(N,)`` float tensor, ``N >= 1``.
        sample_b: ``(M,)`` float tensor, ``M >= 1``.

    ``F_a(x)`` is the fraction of ``sample_a`` that is ``<= x`` (right-continuous); the supremum is
    reached at one of the observed values.  Equals ``scipy.stats.ks_2samp(a, b).statistic``.

    Returns:
        ``D`` in ``[0, 1]`` as a Python float.  The inputs are not modified.
    """
    ### BEGIN SOLUTION
    a = torch.sort(sample_a.to(torch.float64)).values
    b = torch.sort(sample_b.to(torch.float64)).values
    points = torch.cat([a, b])                                               # (N + M,) where the CDFs jump
    cdf_a = torch.searchsorted(a, points, right=True).to(torch.float64) / a.numel()
    cdf_b = torch.searchsorted(b, points, right=True).to(torch.float64) / b.numel()
    return float((cdf_a - cdf_b).abs().max())
    ### END SOLUTION


def drift_level(psi: float) -> str:
    """Read a PSI value: ``"none"`` below 0.1, ``"moderate"`` from 0.1 to 0.25 (both included),
    ``"significant"`` above 0.25."""
    ### BEGIN SOLUTION
    if psi < 0.1:
        return "none"
    if psi <= 0.25:
        return "moderate"
    return "significant"
    ### END SOLUTION
