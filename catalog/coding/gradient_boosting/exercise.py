"""Gradient boosting for regression: shallow trees fitted to residuals.

Gradient boosting (Friedman, 2001) builds an additive model ``F(x) = F_0 + nu * sum_m h_m(x)``
one small regression tree at a time.  With the squared loss ``(y - F)^2 / 2`` the negative
gradient with respect to ``F`` is the *residual* ``y - F``, so each round simply fits a tree to
what the current model still gets wrong:

    F_0(x) = mean(y);   for m = 1..M:  r = y - F_{m-1}(X);  h_m = tree fitted to (X, r);
                                       F_m = F_{m-1} + nu * h_m

``nu`` (the learning rate, "shrinkage") trades more rounds for better generalisation.

The trees are CART regression trees of depth 1 or 2 (stumps, or a stump per side):

* a node tries every feature ``d`` and every threshold halfway between two consecutive DISTINCT
  values of ``X[:, d]`` among its rows; a split sends ``x[d] <= threshold`` left;
* it keeps the split with the largest decrease of the sum of squared errors,
  ``SSE(node) - SSE(left) - SSE(right)`` (each part predicting its mean); ties go to the lower
  feature index, then the lower threshold;
* a node is a leaf -- predicting the mean of its targets -- at ``max_depth``, when its targets
  are all equal, or when no feature takes two distinct values among its rows.

Trees are plain data: a leaf is ``{"value": v}``, a split ``{"feature": d, "threshold": t,
"left": ..., "right": ...}``, with ``d`` a Python ``int`` and ``t``, ``v`` Python floats.  This
mirrors ``sklearn.ensemble.GradientBoostingRegressor(loss="squared_error",
criterion="squared_error", subsample=1.0)`` and its
``DecisionTreeRegressor`` (tests/test_twins_coding_gradient_boosting.py).
"""
from typing import Dict, List

import torch

Tree = Dict[str, object]


def _leaf(r: torch.Tensor) -> Tree:
    return {"value": float(r.mean())}


def best_split(X: torch.Tensor, r: torch.Tensor):
    """The best ``(feature, threshold, SSE decrease)`` for targets ``r (n,)`` over rows ``X (n, D)``,
    or None when no feature takes two distinct values (ties: lower feature, then lower threshold)."""
    ### BEGIN SOLUTION
    best = None
    n = r.shape[0]
    total = r.sum()
    for d in range(X.shape[1]):
        order = torch.argsort(X[:, d], stable=True)
        xs, rs = X[order, d], r[order]                               # (n,) sorted by feature d
        left_sum = torch.cumsum(rs, 0)[:-1]                          # (n-1,) sum of the first k+1 targets
        k = torch.arange(1, n, dtype=r.dtype)                        # left sizes
        distinct = xs[1:] > xs[:-1]                                  # a threshold fits between positions k-1, k
        if not distinct.any():
            continue
        # SSE(node) - SSE(left) - SSE(right) = S_L^2 / n_L + S_R^2 / n_R - S^2 / n
        gain = left_sum ** 2 / k + (total - left_sum) ** 2 / (n - k) - total ** 2 / n
        gain = torch.where(distinct, gain, torch.full_like(gain, -float("inf")))
        i = int(torch.argmax(gain))                                  # first maximum: the lowest threshold
        if best is None or float(gain[i]) > best[2]:                 # strictly better: keeps the lower feature
            best = (d, (float(xs[i]) + float(xs[i + 1])) / 2, float(gain[i]))     # the midpoint, in float64
    return best
    ### END SOLUTION


def fit_tree(X: torch.Tensor, r: torch.Tensor, max_depth: int) -> Tree:
    """A CART regression tree of depth at most ``max_depth`` (>= 0) fitted to ``r (n,)`` over ``X (n, D)``
    (float, ``n >= 1``), as plain nested dicts (module docstring); leaf values are the mean target."""
    ### BEGIN SOLUTION
    if max_depth == 0 or bool((r == r[0]).all()):
        return _leaf(r)
    split = best_split(X, r)
    if split is None:
        return _leaf(r)
    d, threshold, _ = split
    go_left = X[:, d] <= threshold
    return {"feature": d, "threshold": threshold,
            "left": fit_tree(X[go_left], r[go_left], max_depth - 1),
            "right": fit_tree(X[~go_left], r[~go_left], max_depth - 1)}
    ### END SOLUTION


def predict_tree(tree: Tree, X: torch.Tensor) -> torch.Tensor:
    """The tree's prediction for every row of ``X (n, D)``: ``(n,)`` in ``X``'s dtype (``x[d] <=
    threshold`` goes left)."""
    ### BEGIN SOLUTION
    if "value" in tree:
        return torch.full((X.shape[0],), tree["value"], dtype=X.dtype)
    go_left = X[:, tree["feature"]] <= tree["threshold"]
    out = torch.empty(X.shape[0], dtype=X.dtype)
    out[go_left] = predict_tree(tree["left"], X[go_left])
    out[~go_left] = predict_tree(tree["right"], X[~go_left])
    return out
    ### END SOLUTION


def fit_gradient_boosting(X: torch.Tensor, y: torch.Tensor, n_estimators: int, learning_rate: float,
                          max_depth: int) -> Dict[str, object]:
    """Boost ``n_estimators`` trees of depth ``max_depth`` on the squared loss.

    Returns:
        ``{"init": mean(y) as a float, "learning_rate": learning_rate, "trees": [tree_1, ...]}``
        where tree ``m`` is fitted (with :func:`fit_tree`) to the residuals ``y - F_{m-1}(X)``.
        ``X`` and ``y`` are not modified.
    """
    ### BEGIN SOLUTION
    init = float(y.mean())
    F = torch.full_like(y, init)
    trees: List[Tree] = []
    for _ in range(n_estimators):
        tree = fit_tree(X, y - F, max_depth)                         # the negative gradient of (y - F)^2 / 2
        F = F + learning_rate * predict_tree(tree, X)
        trees.append(tree)
    return {"init": init, "learning_rate": learning_rate, "trees": trees}
    ### END SOLUTION


def predict_gradient_boosting(model: Dict[str, object], X: torch.Tensor) -> torch.Tensor:
    """``F(x) = init + learning_rate * sum_m h_m(x)`` for every row of ``X``: ``(n,)`` in ``X``'s dtype."""
    ### BEGIN SOLUTION
    F = torch.full((X.shape[0],), model["init"], dtype=X.dtype)
    for tree in model["trees"]:
        F = F + model["learning_rate"] * predict_tree(tree, X)
    return F
    ### END SOLUTION
