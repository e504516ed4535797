"""coding/knn against scikit-learn's brute-force k-NN.  On data without distance ties (random
float64 points: no two training points at the same distance from a query; scikit-learn's
argpartition does not promise an order among equal distances) the reference
(solutions/coding/knn.py) and the grader's brute-force loop (graders/coding/knn.py) find the
same neighbours as ``NearestNeighbors(algorithm="brute")``, the same distances, and the same
predictions as ``KNeighborsClassifier`` / ``KNeighborsRegressor(algorithm="brute")``, labels
-1 / 2 / 5 / 8 included; the distance matrix matches ``euclidean_distances``.  scikit-learn also
gives a tied vote to the smallest label (not to the nearer neighbour), which the last test pins.
"""
import pytest
import torch

neighbors = pytest.importorskip("sklearn.neighbors")
pairwise = pytest.importorskip("sklearn.metrics.pairwise")

from mlkata.engine import load_module  # noqa: E402
from helpers import ROOT  # noqa: E402

REF = load_module(str(ROOT / "solutions" / "coding" / "knn.py"), "twins_coding_knn_reference")
ORACLE = load_module(str(ROOT / "graders" / "coding" / "knn.py"), "twins_coding_knn_grader")


@pytest.mark.parametrize("seed", range(6))
def test_neighbours_and_distances_match_sklearn(seed):
    Xt, Xq = ORACLE.data(3000 + seed, n=50, q=20, d=1 + seed % 4)
    k = 1 + 2 * seed
    nn = neighbors.NearestNeighbors(n_neighbors=k, algorithm="brute").fit(Xt.numpy())
    want_d, want_i = (torch.from_numpy(a) for a in nn.kneighbors(Xq.numpy()))
    for d, i in (REF.kneighbors(Xt, Xq, k), ORACLE.brute_neighbours(Xt, Xq, k)):
        assert torch.equal(i, want_i.long())
        torch.testing.assert_close(d, want_d, rtol=1e-9, atol=1e-9)
    torch.testing.assert_close(REF.pairwise_distances(Xq, Xt),
                               torch.from_numpy(pairwise.euclidean_distances(Xq.numpy(), Xt.numpy())),
                               rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("seed,n_classes,k", [(0, 2, 1), (1, 2, 3), (2, 2, 7), (3, 3, 5), (4, 4, 9), (5, 2, 11)])
def test_predictions_match_sklearn(seed, n_classes, k):
    g = torch.Generator().manual_seed(seed)
    Xt, Xq = ORACLE.data(3100 + seed, n=80, q=40, d=3)
    y = torch.randint(n_classes, (80,), generator=g) * 3 - 1                # labels -1, 2, 5, 8
    clf = neighbors.KNeighborsClassifier(n_neighbors=k, algorithm="brute").fit(Xt.numpy(), y.numpy())
    want = torch.from_numpy(clf.predict(Xq.numpy())).long()
    assert torch.equal(REF.knn_predict(Xt, y, Xq, k), want)
    assert torch.equal(ORACLE.brute_predict(Xt, y, Xq, k), want)

    t = torch.randn(80, generator=g, dtype=torch.float64)
    reg = neighbors.KNeighborsRegressor(n_neighbors=k, algorithm="brute").fit(Xt.numpy(), t.numpy())
    want = torch.from_numpy(reg.predict(Xq.numpy()))
    torch.testing.assert_close(REF.knn_predict(Xt, t, Xq, k, "regression"), want, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(ORACLE.brute_predict(Xt, t, Xq, k, "regression"), want, rtol=1e-12, atol=1e-12)


def test_sklearn_breaks_vote_ties_towards_the_smallest_label():
    Xt = torch.tensor([[0.0], [1.0], [3.0], [4.5]], dtype=torch.float64)
    y = torch.tensor([9, 4, 9, 4])
    Xq = torch.tensor([[1.6]], dtype=torch.float64)                       # k=2: rows 1 (at 0.6) and 2 (at 1.4)
    clf = neighbors.KNeighborsClassifier(n_neighbors=2, algorithm="brute").fit(Xt.numpy(), y.numpy())
    assert clf.predict(Xq.numpy()).tolist() == [4]
    y2 = torch.tensor([4, 9, 4, 9])                                       # now the nearer neighbour has label 9
    clf2 = neighbors.KNeighborsClassifier(n_neighbors=2, algorithm="brute").fit(Xt.numpy(), y2.numpy())
    assert clf2.predict(Xq.numpy()).tolist() == [4]
    assert REF.knn_predict(Xt, y2, Xq, 2).tolist() == [4]
    assert ORACLE.brute_predict(Xt, y2, Xq, 2).tolist() == [4]
