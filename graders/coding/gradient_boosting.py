"""Hidden graders of coding/gradient_boosting: best_split and fit_tree (depth 1 and 2) against an
exhaustive float64 search on random data; the tie rules (duplicate features, symmetric targets);
leaves at pure or unsplittable nodes; predict_tree on given trees (x == threshold goes left); the
boosted model's trees, init and predictions against the oracle for several (M, nu, depth);
n_estimators = 0; the training loss decreasing; untouched inputs.
tests/test_twins_coding_gradient_boosting.py checks both against scikit-learn."""
import torch

from mlkata.checks import Fail, check, describe, expect, expect_close, expect_equal, probe, visible_module

V = visible_module("coding/gradient_boosting")


@probe
def split_probe(sub, X, r):
    return sub.best_split(X, r)


def regression(seed, n, D, dtype=torch.float32):
    """float32-representable data (scikit-learn's trees work in float32)."""
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, D, generator=g)
    y = torch.sin(2 * X[:, 0]) + 0.5 * X[:, -1] ** 2 + 0.1 * torch.randn(n, generator=g)
    return X.to(dtype), y.to(dtype)


def expect_model(got, X, y, M, lr, depth, what, X_test=None):
    """Judge side: init, then each tree obeys the contract on (X, y - F_{m-1}), then the predictions:
    on the training rows (the trees' partitions fix them) and, on X_test, those of the learner's own
    model walked by the oracle."""
    model = got["model"]
    if not isinstance(model, dict) or not {"init", "learning_rate", "trees"} <= set(model):
        raise Fail("fit_gradient_boosting returns {'init', 'learning_rate', 'trees'}", f"{what}: your code returned "
                   f"{describe(model)}")
    y64 = y.double()
    expect_close(model["init"], float(y64.mean()), "init = F_0 = the mean of y", rtol=1e-6, what=f"init ({what})")
    trees = model["trees"]
    if not isinstance(trees, list) or len(trees) != M:
        raise Fail("one tree per boosting round", f"{what}: expected {M} trees, your model has {describe(trees)}")
    F = torch.full_like(y64, float(y64.mean()))
    for m, tree in enumerate(trees):
        V.expect_tree_on(tree, X, y64 - F, depth, f"{what}, tree {m + 1} (fitted to y - F_{m})")
        F = F + lr * V.predict_oracle(tree, X)
    X_test = X if X_test is None else X_test
    want = V.predict_boost_oracle({"init": float(y64.mean()), "learning_rate": lr, "trees": trees}, X_test)
    expect_close(got["pred"], want, "F(x) = init + learning_rate * sum of the trees' predictions", rtol=1e-5,
                 atol=1e-5, what=f"predictions ({what})")


@check("best_split on random data: the feature, midpoint threshold and SSE decrease of an exhaustive search")
def split_random(run):
    for i, (n, D) in enumerate(((30, 3), (12, 1), (50, 5))):
        X, y = regression(i, n, D)
        got = run(split_probe, X, y)
        want = V.split_oracle(X.double(), y.double())
        rule = "best_split returns (feature, threshold, SSE decrease) of the split with the largest decrease"
        if not isinstance(got, (list, tuple)) or len(got) != 3:
            raise Fail(rule, f"n={n}, D={D}: your code returned {describe(got)}")
        expect_equal(got[0], want[0], rule, what=f"feature (n={n}, D={D})")
        expect_close(got[1], want[1], rule + "; threshold halfway between consecutive distinct values", rtol=1e-6,
                     what=f"threshold (n={n}, D={D})")
        expect_close(got[2], want[2], "decrease = SSE(node) - SSE(left) - SSE(right)", rtol=1e-4, atol=1e-5,
                     what=f"SSE decrease (n={n}, D={D})")


@check("fit_tree with depth 1 and 2 on random data matches the exhaustive search, node by node", points=2)
def trees_random(run):
    for i, (n, D, depth) in enumerate(((40, 3, 1), (40, 3, 2), (25, 5, 2), (60, 2, 2))):
        X, y = regression(10 + i, n, D)
        V.expect_tree_on(run(V.tree_fit, X, y, depth)["tree"], X, y, depth, f"n={n}, D={D}, depth {depth}")


@check("ties: identical features -> the lower feature index; equal decreases -> the lower threshold")
def ties(run):
    X = torch.tensor([[0.0, 5.0, 0.0], [1.0, 6.0, 1.0], [2.0, 7.0, 2.0], [3.0, 8.0, 3.0]])
    r = torch.tensor([0.0, 1.0, 1.0, 0.0])             # splits after 1 and after 3 decrease the SSE equally
    want = {"feature": 0, "threshold": 0.5, "left": {"value": 0.0},
            "right": {"feature": 0, "threshold": 2.5, "left": {"value": 1.0}, "right": {"value": 0.0}}}
    V.expect_tree(run(V.tree_fit, X, r, 2)["tree"], want, "features 0 and 2 identical, feature 1 shifted; symmetric r")


@check("leaves: pure nodes, unsplittable nodes (identical rows), a single row, and max_depth = 0")
def leaves(run):
    X = torch.tensor([[1.0, 2.0], [1.0, 2.0], [1.0, 2.0]])
    for r, depth, what in ((torch.tensor([1.0, 2.0, 6.0]), 2, "identical rows"),
                           (torch.tensor([4.0, 4.0, 4.0]), 2, "equal targets")):
        V.expect_tree(run(V.tree_fit, X, r, depth)["tree"], {"value": float(r.mean())}, what)
    X2 = torch.tensor([[0.0], [1.0], [2.0], [3.0]])
    r2 = torch.tensor([5.0, 5.0, 1.0, 2.0])                 # the left child after the first split is pure
    V.expect_tree(run(V.tree_fit, X2, r2, 2)["tree"], V.tree_oracle(X2, r2, 2), "a pure left child stays a leaf")
    V.expect_tree(run(V.tree_fit, X2[:1], r2[:1], 2)["tree"], {"value": 5.0}, "a single row")
    V.expect_tree(run(V.tree_fit, X2, r2, 0)["tree"], {"value": float(r2.mean())}, "max_depth = 0")


@check("predict_tree on random given trees, with test points exactly on thresholds", points=2)
def predict_random(run):
    for i in range(3):
        X, y = regression(20 + i, 40, 3)
        tree = V.tree_oracle(X, y, 2)
        X_test, _ = regression(30 + i, 25, 3, dtype=torch.float64)
        X_test[0, tree["feature"]] = tree["threshold"]              # exactly on the root threshold: goes left
        expect_close(run("predict_tree", tree, X_test), V.predict_oracle(tree, X_test), "walk the tree: "
                     "x[feature] <= threshold goes left", rtol=1e-9, atol=1e-12, what=f"predictions (tree {i})")


@check("gradient boosting on random data: init, every tree (fitted to the current residuals), predictions", points=3)
def boosting_random(run):
    for i, (n, D, M, lr, depth) in enumerate(((40, 2, 6, 0.1, 1), (40, 3, 5, 0.5, 2), (30, 4, 8, 0.3, 2))):
        X, y = regression(40 + i, n, D)
        X_test, _ = regression(50 + i, 20, D)
        expect_model(run(V.boost, X, y, M, lr, depth, X_test), X, y, M, lr, depth, f"M={M}, lr={lr}, depth {depth}",
                     X_test)


@check("n_estimators = 0 predicts the mean of y everywhere; the training loss decreases round after round")
def zero_rounds_and_descent(run):
    X, y = regression(60, 30, 2)
    expect_model(run(V.boost, X, y, 0, 0.1, 2, X), X, y, 0, 0.1, 2, "M = 0")
    losses = []
    for M in (1, 3, 6):
        got = run(V.boost, X, y, M, 0.5, 2, X)
        expect_model(got, X, y, M, 0.5, 2, f"M = {M}")
        losses.append(float(((got["pred"].double() - y.double()) ** 2).mean()))
    expect(losses == sorted(losses, reverse=True), "each round moves F toward y on the training data",
           f"training MSE after 1, 3, 6 rounds: {losses}")


@check("fitting modifies neither X nor y")
def inputs_untouched(run):
    X, y = regression(70, 20, 2)
    got = run(V.boost, X, y, 3, 0.3, 2, X)
    expect_model(got, X, y, 3, 0.3, 2, "M = 3")
    for name, before, after in zip(("X", "y"), (X, y), got["after"]):
        expect_equal(after, before, "fit_gradient_boosting does not modify its inputs", what=f"{name} after the call")
