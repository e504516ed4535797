"""Visible checks: a stump on one feature, a depth-2 tree on two features, predict_tree on a given
tree, and two rounds of boosting on six points."""
import torch

from mlkata.checks import Fail, check, describe, expect_close, expect_equal, probe


@probe
def tree_fit(sub, X, r, max_depth):
    return {"tree": sub.fit_tree(X, r, max_depth), "after": [X, r]}


@probe
def boost(sub, X, y, n_estimators, learning_rate, max_depth, X_test):
    model = sub.fit_gradient_boosting(X, y, n_estimators, learning_rate, max_depth)
    return {"model": model, "pred": sub.predict_gradient_boosting(model, X_test), "after": [X, y]}


def sse(r):
    return float(((r - r.mean()) ** 2).sum()) if r.numel() else 0.0


def split_oracle(X, r):
    """(feature, threshold, decrease) by trying every midpoint: the SSE of each side from masked sums."""
    best = None
    for d in range(X.shape[1]):
        values = torch.unique(X[:, d])                                # sorted distinct values
        if values.numel() < 2:
            continue
        thresholds = (values[:-1] + values[1:]) / 2                   # (T,)
        left = (X[None, :, d] <= thresholds[:, None]).to(r.dtype)     # (T, n) one row per candidate
        right = 1 - left

        def side_sse(m):
            count = m.sum(1)
            return (m * r * r).sum(1) - (m * r).sum(1) ** 2 / count   # sum r^2 - (sum r)^2 / n per side

        gains = sse(r) - side_sse(left) - side_sse(right)             # (T,)
        i = int(torch.argmax(gains))
        if best is None or float(gains[i]) > best[2] + 1e-12 * (1 + abs(best[2])):
            best = (d, float(thresholds[i]), float(gains[i]))
    return best


def tree_oracle(X, r, max_depth):
    X, r = X.double(), r.double()
    if max_depth == 0 or bool((r == r[0]).all()):
        return {"value": float(r.mean())}
    split = split_oracle(X, r)
    if split is None:
        return {"value": float(r.mean())}
    d, t, _ = split
    left = X[:, d] <= t
    return {"feature": d, "threshold": t, "left": tree_oracle(X[left], r[left], max_depth - 1),
            "right": tree_oracle(X[~left], r[~left], max_depth - 1)}


def predict_oracle(tree, X):
    out = torch.empty(X.shape[0], dtype=torch.float64)
    for i, x in enumerate(X.double()):
        node = tree
        while "value" not in node:
            node = node["left"] if float(x[node["feature"]]) <= node["threshold"] else node["right"]
        out[i] = node["value"]
    return out


def boost_oracle(X, y, n_estimators, lr, max_depth):
    y = y.double()
    F = torch.full_like(y, float(y.mean()))
    trees = []
    for _ in range(n_estimators):
        tree = tree_oracle(X, y - F, max_depth)
        F = F + lr * predict_oracle(tree, X)
        trees.append(tree)
    return {"init": float(y.mean()), "learning_rate": lr, "trees": trees}


def predict_boost_oracle(model, X):
    F = torch.full((X.shape[0],), model["init"], dtype=torch.float64)
    for tree in model["trees"]:
        F = F + model["learning_rate"] * predict_oracle(tree, X)
    return F


def expect_tree(got, want, what, path="root"):
    """Judge side: the same nested structure, feature by feature, threshold and leaf values close."""
    rule_leaf = ("a leaf is {'value': mean of the node's targets}; a node is a leaf at max_depth, when its targets are "
                 "all equal, or when no feature has two distinct values")
    rule_split = ("split on the feature and midpoint threshold with the largest SSE decrease (ties: lower feature, "
                  "then lower threshold); x <= threshold goes left")
    if not isinstance(got, dict):
        raise Fail(rule_split, f"{what}: at {path} expected a dict, your tree has {describe(got)}")
    if "value" in want:
        if "value" not in got:
            raise Fail(rule_leaf, f"{what}: {path} should be a leaf with value {want['value']:.6g}, your tree splits "
                                  f"on feature {got.get('feature')} at {got.get('threshold')}")
        expect_close(got["value"], want["value"], rule_leaf, rtol=1e-5, atol=1e-6, what=f"leaf value at {path} ({what})")
        return
    if "feature" not in got:
        raise Fail(rule_split, f"{what}: {path} should split on feature {want['feature']} at {want['threshold']:.6g}, "
                               f"your tree has a leaf {describe(got)}")
    expect_equal(got["feature"], want["feature"], rule_split, what=f"feature at {path} ({what})")
    expect_close(got["threshold"], want["threshold"], rule_split + " (the threshold is halfway between two consecutive "
                 "distinct values)", rtol=1e-6, atol=1e-7, what=f"threshold at {path} ({what})")
    for side in ("left", "right"):
        expect_tree(got.get(side), want[side], what, f"{path}.{side}")


def expect_tree_on(got, X, r, max_depth, what, path="root"):
    """Judge side: ``got`` obeys the contract on the rows (X, r), node by node: a leaf exactly where
    the contract stops (value = mean), otherwise a split whose SSE decrease is the best one (up to
    float rounding, so exact ties between features may go either way here; the ``ties`` check pins
    the rule), whose threshold is the midpoint of the gap it cuts, and whose children obey the
    contract on the rows it sends them."""
    X, r = X.double(), r.double()
    split = None if max_depth == 0 or bool((r == r[0]).all()) else split_oracle(X, r)
    if split is None:                                                 # this node only: leaf, or the best split
        want = {"value": float(r.mean())}
    else:
        left = X[:, split[0]] <= split[1]
        want = {"feature": split[0], "threshold": split[1], "left": {"value": float(r[left].mean())},
                "right": {"value": float(r[~left].mean())}}
    if "value" in want or not isinstance(got, dict) or "feature" not in got:
        expect_tree(got, {"value": want["value"]} if "value" in want else want, what, path)
        return
    d, t = got["feature"], got.get("threshold")
    if not isinstance(d, int) or not 0 <= d < X.shape[1] or not isinstance(t, (int, float)):
        raise Fail("a split is {'feature': int, 'threshold': float, 'left': ..., 'right': ...}",
                   f"{what}: at {path} your tree has {describe(got)}"[:400])
    left = X[:, d] <= t
    if bool(left.all()) or not bool(left.any()):
        raise Fail("a split sends some rows left and some right (a threshold between two distinct values)",
                   f"{what}: at {path} your split (feature {d} at {t}) sends all {X.shape[0]} rows one way")
    gain = sse(r) - sse(r[left]) - sse(r[~left])
    best = split[2]
    if not gain >= best - 1e-9 * (1 + abs(best)):
        expect_tree(got, want, what, path)                            # names the expected split
    lo, hi = X[left, d].max(), X[~left, d].min()
    expect_close(t, float(lo + hi) / 2, "the threshold is halfway between two consecutive distinct values",
                 rtol=1e-6, atol=1e-7, what=f"threshold at {path} ({what})")
    for side, rows in (("left", left), ("right", ~left)):
        expect_tree_on(got.get(side), X[rows], r[rows], max_depth - 1, what, f"{path}.{side}")


@check("fit_tree with max_depth=1 on one feature: the best stump")
def stump(run):
    X = torch.tensor([[1.0], [2.0], [3.0], [4.0], [5.0]])
    r = torch.tensor([1.0, 1.2, 0.9, 5.0, 5.2])
    expect_tree(run(tree_fit, X, r, 1)["tree"], tree_oracle(X, r, 1), "5 points, depth 1")


@check("fit_tree with max_depth=2 on two features")
def depth_two(run):
    X = torch.tensor([[0.0, 5.0], [1.0, 3.0], [2.0, 4.0], [3.0, 1.0], [4.0, 2.0], [5.0, 0.0]])
    r = torch.tensor([0.0, 1.0, 0.5, 3.0, 2.0, 10.0])
    expect_tree(run(tree_fit, X, r, 2)["tree"], tree_oracle(X, r, 2), "6 points, depth 2")


@check("predict_tree on a given tree: x <= threshold goes left")
def predict_given(run):
    tree = {"feature": 1, "threshold": 0.5, "left": {"value": -1.0},
            "right": {"feature": 0, "threshold": 2.0, "left": {"value": 3.0}, "right": {"value": 7.0}}}
    X = torch.tensor([[0.0, 0.5], [2.0, 0.6], [2.5, 1.0], [9.0, -3.0]])
    expect_close(run("predict_tree", tree, X), torch.tensor([-1.0, 3.0, 7.0, -1.0]), "walk the tree: x[feature] <= "
                 "threshold goes left, a leaf returns its value", what="predictions")


@check("two rounds of boosting (depth 1, learning rate 0.5) on 6 points")
def two_rounds(run):
    X = torch.tensor([[1.0], [2.0], [3.0], [4.0], [5.0], [6.0]], dtype=torch.float64)
    y = torch.tensor([1.0, 1.5, 1.2, 4.0, 4.5, 9.0], dtype=torch.float64)
    got = run(boost, X, y, 2, 0.5, 1, X)
    want = boost_oracle(X, y, 2, 0.5, 1)
    expect_close(got["pred"], predict_boost_oracle(want, X), "F = mean(y) + lr * (h_1 + h_2), h_2 fitted to the "
                 "residuals of F_1 = mean(y) + lr * h_1", rtol=1e-9, atol=1e-9, what="training predictions")
