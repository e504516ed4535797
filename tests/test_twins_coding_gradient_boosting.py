"""Library twins of coding/gradient_boosting: scikit-learn's ``GradientBoostingRegressor(
loss="squared_error", subsample=1.0)`` -- its Friedman-MSE improvement n_l n_r / n (mean_l - mean_r)^2
is the SSE decrease itself, and scikit-learn 1.9 deprecates the ``criterion`` argument as having no
effect -- grows, round by round, the same
regression trees as the reference and the grader's exhaustive oracle -- every split feature,
threshold and leaf value of ``estimators_[m, 0].tree_`` -- and predicts the same values;
``DecisionTreeRegressor(criterion="squared_error")`` grows fit_tree's tree.  The data are float32
values (scikit-learn's trees work in float32); exact ties between features are compared as
partitions (see assert_same_tree)."""
from pathlib import Path

import pytest
import torch

from mlkata.engine import load_module

ensemble = pytest.importorskip("sklearn.ensemble")
tree_mod = pytest.importorskip("sklearn.tree")

ROOT = Path(__file__).resolve().parent.parent
REF = load_module(str(ROOT / "solutions" / "coding" / "gradient_boosting.py"), "_twin_ref_gradient_boosting")
GRADER = load_module(str(ROOT / "graders" / "coding" / "gradient_boosting.py"), "_twin_grader_gradient_boosting")
V = GRADER.V


def from_sklearn(t, node=0):
    """An sklearn ``tree_`` as the contract's nested dicts."""
    if t.children_left[node] == -1:
        return {"value": float(t.value[node].ravel()[0])}
    return {"feature": int(t.feature[node]), "threshold": float(t.threshold[node]),
            "left": from_sklearn(t, t.children_left[node]), "right": from_sklearn(t, t.children_right[node])}


def assert_same_tree(a, b, X, path="root"):
    """The same tree on the training rows ``X``: at every node the same leaf value, or a split that
    sends the same rows left.  Where two features separate the rows identically (an exact tie of
    the SSE decrease) the contract takes the lower feature and scikit-learn its random feature
    order; both are the same partition (possibly with the sides mirrored), and the thresholds are
    compared only when the features agree."""
    assert ("value" in a) == ("value" in b), path
    if "value" in a:
        assert a["value"] == pytest.approx(b["value"], rel=1e-5, abs=1e-6), path
        return
    left_a = X[:, a["feature"]].double() <= a["threshold"]
    left_b = X[:, b["feature"]].double() <= b["threshold"]
    if a["feature"] == b["feature"]:
        assert a["threshold"] == pytest.approx(b["threshold"], rel=1e-6, abs=1e-7), path
    b_left, b_right = b["left"], b["right"]
    if not torch.equal(left_a, left_b):                 # a tie between features may mirror the two sides
        assert torch.equal(left_a, ~left_b), path
        b_left, b_right = b_right, b_left
    assert_same_tree(a["left"], b_left, X[left_a], path + ".left")
    assert_same_tree(a["right"], b_right, X[~left_a], path + ".right")


@pytest.mark.parametrize("seed,n,D,depth", [(0, 40, 3, 1), (1, 40, 3, 2), (2, 60, 5, 2)])
def test_fit_tree_matches_decision_tree_regressor(seed, n, D, depth):
    X, y = GRADER.regression(seed, n, D)
    sk = tree_mod.DecisionTreeRegressor(criterion="squared_error", max_depth=depth, random_state=0)
    want = from_sklearn(sk.fit(X.numpy(), y.numpy()).tree_)
    assert_same_tree(REF.fit_tree(X, y, depth), want, X)
    assert_same_tree(V.tree_oracle(X, y, depth), want, X)


@pytest.mark.parametrize("seed,M,lr,depth", [(10, 10, 0.1, 1), (11, 8, 0.5, 2), (12, 20, 0.3, 2)])
def test_boosting_matches_gradient_boosting_regressor(seed, M, lr, depth):
    X, y = GRADER.regression(seed, 50, 3)
    X_test, _ = GRADER.regression(seed + 100, 30, 3)
    sk = ensemble.GradientBoostingRegressor(loss="squared_error", n_estimators=M, learning_rate=lr, max_depth=depth,
                                            subsample=1.0, random_state=0)
    sk.fit(X.numpy(), y.numpy())
    model = REF.fit_gradient_boosting(X, y, M, lr, depth)
    oracle = V.boost_oracle(X, y, M, lr, depth)
    assert model["init"] == pytest.approx(float(sk.init_.constant_.ravel()[0]), rel=1e-6)
    for m in range(M):
        want = from_sklearn(sk.estimators_[m, 0].tree_)
        assert_same_tree(model["trees"][m], want, X, f"tree {m}")
        assert_same_tree(oracle["trees"][m], want, X, f"oracle tree {m}")
    want_pred = torch.from_numpy(sk.predict(X.numpy())).double()
    torch.testing.assert_close(REF.predict_gradient_boosting(model, X).double(), want_pred, rtol=1e-5, atol=1e-5)
    if all(a == b for a, b in zip(features(model["trees"]), features([from_sklearn(e.tree_) for e in sk.estimators_[:, 0]]))):
        want_pred = torch.from_numpy(sk.predict(X_test.numpy())).double()       # no tie: the same thresholds too
        torch.testing.assert_close(REF.predict_gradient_boosting(model, X_test).double(), want_pred, rtol=1e-5,
                                   atol=1e-5)
        torch.testing.assert_close(V.predict_boost_oracle(oracle, X_test), want_pred, rtol=1e-5, atol=1e-5)


def features(trees):
    """Every split's feature, tree by tree, in preorder."""
    out = []
    for t in trees:
        stack = [t]
        while stack:
            node = stack.pop()
            if "value" not in node:
                out.append(node["feature"])
                stack += [node["right"], node["left"]]
    return out
