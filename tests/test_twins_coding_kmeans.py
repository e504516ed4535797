"""coding/kmeans against scikit-learn.  Given the same starting centres,
``sklearn.cluster.KMeans(init=centres, n_init=1, algorithm="lloyd", tol=0)`` runs the same Lloyd
iterations as the reference (solutions/coding/kmeans.py) and the grader's own oracle
(graders/coding/kmeans.py, ``lloyd_oracle``): equal labels and inertia, the same centres.  Data
and starts are chosen so that no cluster empties (scikit-learn relocates an empty cluster's
centre to a far point; the contract keeps it in place).  ``sklearn.cluster.kmeans_plusplus`` with
``n_local_trials=1`` is the paper's k-means++ (one D^2 draw per centre, no greedy trials): its
empirical rates match the probabilities the grader enumerates.
"""
import pytest
import torch

cluster = pytest.importorskip("sklearn.cluster")

from mlkata.checks import rate_bounds  # noqa: E402
from mlkata.engine import load_module  # noqa: E402
from helpers import ROOT  # noqa: E402

REF = load_module(str(ROOT / "solutions" / "coding" / "kmeans.py"), "twins_coding_kmeans_reference")
ORACLE = load_module(str(ROOT / "graders" / "coding" / "kmeans.py"), "twins_coding_kmeans_grader")


@pytest.mark.parametrize("seed", range(8))
def test_lloyd_matches_sklearn_from_the_same_start(seed):
    g = torch.Generator().manual_seed(seed)
    k = 2 + seed % 4
    X = ORACLE.blobs(2000 + seed, n=120, d=1 + seed % 3, k=k + 1, sep=4.0)
    init = X[torch.randperm(X.shape[0], generator=g)[:k]].clone()
    model = cluster.KMeans(n_clusters=k, init=init.numpy(), n_init=1, max_iter=300, tol=0.0,
                           algorithm="lloyd").fit(X.numpy())
    want_C, want_labels = torch.from_numpy(model.cluster_centers_), torch.from_numpy(model.labels_).long()
    assert torch.bincount(want_labels, minlength=k).min() > 0          # no empty cluster: the contracts coincide

    for C, labels, inertia in (REF.lloyd(X, init), ORACLE.lloyd_oracle(X, init)):
        assert torch.equal(labels, want_labels)
        torch.testing.assert_close(C, want_C, rtol=1e-10, atol=1e-10)
        assert abs(float(inertia) - model.inertia_) <= 1e-9 * model.inertia_


def test_kmeans_plusplus_rates_match_sklearn_single_trial():
    X = ORACLE.LINE.numpy()
    n = 2000
    covered = 0
    for s in range(n):
        _, idx = cluster.kmeans_plusplus(X, 3, n_local_trials=1, random_state=s)
        covered += len({ORACLE.CLUSTER[int(i)] for i in idx}) == 3
    p = ORACLE.plusplus_probability(ORACLE.LINE, 3, lambda c: len({ORACLE.CLUSTER[i] for i in c}) == 3)
    lo, hi = rate_bounds(n, p)
    assert lo <= covered / n <= hi, (covered / n, p)
