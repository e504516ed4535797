"""Visible checks: a small mixed string/int table -- sorted categories, the one-hot matrix, an
unseen category encoded as zeros, drop="first", and the feature names."""
import numpy as np
import torch

from mlkata.checks import check, expect_close, expect_equal, probe


def _cats(c):
    """``categories_[j]`` as a plain list (strings and ints survive the trip back)."""
    try:
        return np.asarray(c).tolist()
    except Exception:  # noqa: BLE001 - reported as it is
        return c


def _snap(v):
    return v.copy() if isinstance(v, np.ndarray) else v


@probe
def encode(sub, X_fit, X_apply=None, drop=None, input_features=None, how="fit"):
    """Fit ``sub.OneHotEncoder(drop=drop)`` on ``X_fit`` (by ``fit`` or ``fit_transform``); report
    categories_, the encodings of ``X_fit`` and ``X_apply``, the feature names, and the inputs after."""
    enc = sub.OneHotEncoder(drop=drop)
    out = {}
    if how == "fit_transform":
        out["fit_transform"] = _snap(enc.fit_transform(X_fit))
    else:
        out["fit_returns_self"] = enc.fit(X_fit) is enc
    cats = getattr(enc, "categories_", None)
    out["categories"] = [_cats(c) for c in cats] if isinstance(cats, (list, tuple)) else _cats(cats)
    out["train"] = _snap(enc.transform(X_fit))
    if X_apply is not None:
        out["test"] = _snap(enc.transform(X_apply))
    names = enc.get_feature_names() if input_features is None else enc.get_feature_names(input_features)
    out["names"] = list(names) if isinstance(names, (list, tuple, np.ndarray)) else names
    out["inputs_after"] = {"X_fit": X_fit.tolist(), "X_apply": None if X_apply is None else X_apply.tolist()}
    return out


@probe
def refit(sub, X_first, X_second, X_apply):
    """Fit on ``X_first``, fit again on ``X_second``, transform ``X_apply``."""
    enc = sub.OneHotEncoder()
    enc.fit(X_first)
    enc.fit(X_second)
    cats = getattr(enc, "categories_", None)
    return {"categories": [_cats(c) for c in cats] if isinstance(cats, (list, tuple)) else _cats(cats),
            "test": enc.transform(X_apply)}


def t(a):
    return torch.as_tensor(np.asarray(a, dtype=np.float64))


X = np.array([["red", 3], ["blue", 10], ["green", 3], ["blue", 2]], dtype=object)


@check("categories_ holds each column's distinct values, sorted (ints numerically: 2 < 3 < 10)")
def sorted_categories(run):
    got = run(encode, X)
    expect_equal(got["categories"], [["blue", "green", "red"], [2, 3, 10]],
                 "categories_[j] is the sorted list of the distinct values of column j (np.unique sorts)",
                 what="categories_")


@check("transform puts one 1 per column block, in the sorted category order")
def one_hot_matrix(run):
    got = run(encode, X)
    want = [[0, 0, 1, 0, 1, 0],       # red, 3
            [1, 0, 0, 0, 0, 1],       # blue, 10
            [0, 1, 0, 0, 1, 0],       # green, 3
            [1, 0, 0, 1, 0, 0]]       # blue, 2
    expect_close(got["train"], t(want), "block j has one column per category of column j, in sorted order; "
                 "a row has a 1 where it holds that category", what="transform(X) (blocks: blue green red | 2 3 10)")


@check("an unseen category encodes as an all-zero block; the other columns are unaffected")
def unseen_is_zero(run):
    got = run(encode, X, X_apply=np.array([["purple", 10], ["red", 7]], dtype=object))
    expect_close(got["test"], t([[0, 0, 0, 0, 0, 1], [0, 0, 1, 0, 0, 0]]),
                 "handle_unknown='ignore': a value never seen in fit gives zeros in its whole block (no error, "
                 "no new column, no other category's column set)", what="transform([['purple', 10], ['red', 7]])")


@check("drop='first' removes each block's first column; feature names are x{j}_{category}")
def drop_first_and_names(run):
    got = run(encode, X, drop="first")
    expect_close(got["train"], t([[0, 1, 1, 0], [0, 0, 0, 1], [1, 0, 1, 0], [0, 0, 0, 0]]),
                 "drop='first' removes the column of the first (smallest) category of every block",
                 what="transform(X) with drop='first' (blocks: green red | 3 10)")
    expect_equal(got["names"], ["x0_green", "x0_red", "x1_3", "x1_10"], "get_feature_names() names the output "
                 "columns x{j}_{category} in output order, without the dropped ones", what="get_feature_names()")
    got = run(encode, X, input_features=["colour", "size"])
    expect_equal(got["names"], ["colour_blue", "colour_green", "colour_red", "size_2", "size_3", "size_10"],
                 "get_feature_names(input_features) uses the given column names", what="get_feature_names(['colour', 'size'])")
