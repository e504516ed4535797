"""coding/pca against scikit-learn: ``sklearn.decomposition.PCA(n_components, svd_solver="full")``
centres the data, takes its thin SVD, fixes signs with ``svd_flip(u_based_decision=False)``
(largest-|value| entry of each component positive) and reports S^2 / (n - 1) and its ratio to
the total variance.  The reference (solutions/) matches every attribute WITH signs, and its
transform / inverse_transform; the grader's oracles (eigh of the float64 covariance, and data
with a known exact spectrum) match the same attributes.  For wide data (n < d) the last
component has zero variance and an arbitrary direction, so only the first n - 1 are compared.
"""
import numpy as np
import pytest
import torch

decomposition = pytest.importorskip("sklearn.decomposition")

from mlkata.engine import load_module  # noqa: E402
from helpers import ROOT  # noqa: E402

REF = load_module(str(ROOT / "solutions" / "coding" / "pca.py"), "twins_coding_pca_reference")
ORACLE = load_module(str(ROOT / "graders" / "coding" / "pca.py"), "twins_coding_pca_grader")

ATTRS = ("mean_", "components_", "explained_variance_", "explained_variance_ratio_", "singular_values_")


def sk(X, k):
    model = decomposition.PCA(n_components=k, svd_solver="full").fit(X.numpy())
    return {a: torch.from_numpy(np.asarray(getattr(model, a))) for a in ATTRS}, model


def assert_attrs(got, want, keep, rtol, atol):
    for a in ATTRS:
        g, w = got[a], want[a]
        if a != "mean_":
            g, w = g[:keep], w[:keep]
        torch.testing.assert_close(g.double(), w.double(), rtol=rtol, atol=atol, msg=a)


@pytest.mark.parametrize("seed,n,d,k", [(0, 50, 5, None), (1, 30, 4, 2), (2, 80, 7, 3), (3, 12, 3, None),
                                        (4, 6, 10, None), (5, 6, 10, 3), (6, 40, 1, None)])
def test_reference_and_oracle_match_sklearn(seed, n, d, k):
    X = ORACLE.data(6000 + seed, n=n, d=d)
    want, model = sk(X, k)
    keep = min(n - 1, d) if n <= d else d            # zero-variance directions are arbitrary
    ref = REF.PCA(k).fit(X)
    assert ref.n_components_ == model.n_components_
    assert_attrs({a: getattr(ref, a) for a in ATTRS}, want, keep, rtol=1e-9, atol=1e-10)
    assert_attrs(ORACLE.eig_oracle(X, k), want, keep, rtol=1e-8, atol=1e-9)
    Xq = torch.randn(9, d, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    if ref.n_components_ <= keep:
        torch.testing.assert_close(ref.transform(Xq), torch.from_numpy(model.transform(Xq.numpy())),
                                   rtol=1e-9, atol=1e-10)
        Z = ref.transform(Xq)
        torch.testing.assert_close(ref.inverse_transform(Z), torch.from_numpy(model.inverse_transform(Z.numpy())),
                                   rtol=1e-9, atol=1e-10)


def test_exact_spectrum_data_matches_sklearn():
    for mean_scale, s in ((1e6, [3.0, 2.0, 1.0, 0.5, 0.25]), (0.0, [1e3, 1.0, 1e-3])):
        X, want = ORACLE.exact_data(7000, 60, 5, s, mean_scale=mean_scale)
        got, _ = sk(X, len(s))
        for a in ("explained_variance_", "singular_values_"):
            torch.testing.assert_close(got[a], want[a], rtol=1e-6, atol=0, msg=a)
        torch.testing.assert_close(got["components_"], want["components_"], rtol=0, atol=1e-6)


def test_float32_matches_sklearn():
    X = ORACLE.data(7100, n=40, d=4).float()
    want, _ = sk(X, None)
    ref = REF.PCA().fit(X)
    assert ref.components_.dtype == torch.float32
    assert_attrs({a: getattr(ref, a) for a in ATTRS}, want, 4, rtol=1e-4, atol=1e-5)
