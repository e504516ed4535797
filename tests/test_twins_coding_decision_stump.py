"""coding/decision_stump against scikit-learn: on tie-free data (continuous features; values
representable in float32, since scikit-learn's trees cast X to float32 and take the midpoint
a / 2 + b / 2 in float64) the reference's fit_stump and the grader's brute-force oracle choose
the root split of ``DecisionTreeClassifier(max_depth=1, criterion="gini")`` -- same feature, same
threshold, same leaf classes, and the same impurity decrease computed from the tree's node
impurities and weighted sample counts -- with and without sample weights; predictions agree.
"""
import numpy as np
import pytest
import torch

tree = pytest.importorskip("sklearn.tree")

from mlkata.engine import load_module  # noqa: E402
from helpers import ROOT  # noqa: E402

REF = load_module(str(ROOT / "solutions" / "coding" / "decision_stump.py"), "twins_coding_stump_reference")
ORACLE = load_module(str(ROOT / "graders" / "coding" / "decision_stump.py"), "twins_coding_stump_grader")


def sklearn_stump(X, y, w):
    model = tree.DecisionTreeClassifier(max_depth=1, criterion="gini", random_state=0)
    model.fit(X.numpy(), y.numpy(), sample_weight=None if w is None else w.numpy())
    t = model.tree_
    left, right = t.children_left[0], t.children_right[0]
    W = t.weighted_n_node_samples
    gain = t.impurity[0] - W[left] / W[0] * t.impurity[left] - W[right] / W[0] * t.impurity[right]
    classes = model.classes_
    return dict(feature=int(t.feature[0]), threshold=float(t.threshold[0]),
                left_class=int(classes[np.argmax(t.value[left][0])]),
                right_class=int(classes[np.argmax(t.value[right][0])]), gain=float(gain)), model


@pytest.mark.parametrize("seed,weights", [(s, s % 2 == 1) for s in range(10)])
def test_stump_matches_sklearn_depth_one_tree(seed, weights):
    X, y, w = ORACLE.data(5000 + seed, n=[30, 60, 120, 200, 45][seed % 5], weights=weights)
    X = X.float().double()                              # exactly representable in float32, as sklearn casts
    if len(torch.unique(y)) != int(y.max()) + 1:
        pytest.skip("a label is absent: sklearn would renumber the classes")
    want, model = sklearn_stump(X, y, w)
    for got in (REF.fit_stump(X, y, w)._asdict(), ORACLE.brute_stump(X, y, w)):
        assert got["feature"] == want["feature"]
        assert got["threshold"] == want["threshold"]
        assert got["left_class"] == want["left_class"] and got["right_class"] == want["right_class"]
        assert abs(got["gain"] - want["gain"]) < 1e-12
    Xq = torch.randn(50, X.shape[1], generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    Xq = Xq.float().double()
    pred = REF.predict_stump(REF.fit_stump(X, y, w), Xq)
    assert torch.equal(pred, torch.from_numpy(model.predict(Xq.numpy())).long())
