"""Hidden graders of features/one_hot: OneHotEncoder against the grader's own pure-Python oracle
(tests/test_twins_features_one_hot.py shows it and the reference agree with
sklearn.preprocessing.OneHotEncoder(handle_unknown="ignore", sparse_output=False)) on random
mixed string/int tables with unseen test values; sorting (ints numerically, strings by code
point); unseen values never leak into another column; drop="first" including one-category
columns; feature names; no refitting in transform; dtypes and untouched inputs."""
import numpy as np

from mlkata.checks import Fail, check, describe, expect, expect_close, expect_equal, visible_module

V = visible_module("features/one_hot")
t = V.t


# --------------------------------------------------------------------------------------------
# The oracle: plain Python loops (no numpy broadcasting, no np.unique)
# --------------------------------------------------------------------------------------------

def oracle_categories(X):
    rows = np.asarray(X).tolist()
    return [sorted(set(r[j] for r in rows)) for j in range(len(rows[0]))]


def oracle_transform(cats, X, drop=None):
    first = 1 if drop == "first" else 0
    out = []
    for row in np.asarray(X).tolist():
        enc = []
        for j, cs in enumerate(cats):
            enc += [1.0 if row[j] == c else 0.0 for c in cs[first:]]
        out.append(enc)
    return np.array(out, dtype=np.float64).reshape(len(out), sum(len(cs) - first for cs in cats))


def oracle_names(cats, drop=None, input_features=None):
    first = 1 if drop == "first" else 0
    names = input_features or [f"x{j}" for j in range(len(cats))]
    return [f"{names[j]}_{c}" for j, cs in enumerate(cats) for c in cs[first:]]


WORDS = ["red", "green", "blue", "Red", "_x", "é", "a b", "10", "9", "zz", "B", "", "ß"]


def random_table(seed, n=None, d=None, kinds=None):
    """(X_fit, X_test) object arrays; string columns from WORDS, int columns from -5..19; the test
    rows hold some values never seen in fit."""
    rng = np.random.default_rng(seed)
    n = n or int(rng.integers(3, 30))
    d = d or int(rng.integers(1, 5))
    kinds = kinds or ["str" if rng.random() < 0.5 else "int" for _ in range(d)]
    cols_fit, cols_test = [], []
    for kind in kinds:
        if kind == "str":
            pool = list(rng.choice(WORDS, size=int(rng.integers(1, 6)), replace=False))
            col = [str(v) for v in rng.choice(pool, size=n)]
            test = [str(v) for v in rng.choice(pool + ["purple", "RED", "blue "], size=8)]
        else:
            pool = [int(v) for v in rng.choice(np.arange(-5, 20), size=int(rng.integers(1, 6)), replace=False)]
            col = [int(v) for v in rng.choice(pool, size=n)]
            test = [int(v) for v in rng.choice(pool + [100, -7, 21], size=8)]
        cols_fit.append(col)
        cols_test.append(test)
    X_fit = np.empty((n, len(kinds)), dtype=object)
    X_test = np.empty((8, len(kinds)), dtype=object)
    for j in range(len(kinds)):
        X_fit[:, j] = cols_fit[j]
        X_test[:, j] = cols_test[j]
    return X_fit, X_test


CATS = "categories_[j] is the sorted list of the distinct values of column j of the fitted data"
ENCODE = ("block j of the output has one 0/1 column per category of categories_[j], in sorted order; a row has a "
          "1 where it holds that category")
UNSEEN = ("handle_unknown='ignore': a value not seen in fit gives zeros in its whole block -- it must not be "
          "mapped to a neighbouring category or to the last column (index -1)")
NAMES = "get_feature_names() returns x{j}_{category} for every output column, in output order"


def agree(run, seeds, drop):
    for seed in seeds:
        X, X_test = random_table(seed)
        cats = oracle_categories(X)
        got = run(V.encode, X, X_apply=X_test, drop=drop)
        what = f"table of shape {list(X.shape)}, seed {seed}, drop={drop!r}"
        expect_equal(got["categories"], cats, CATS, what=f"categories_ ({what})")
        expect_close(got["train"], t(oracle_transform(cats, X, drop)), ENCODE, what=f"transform of the fitted X ({what})")
        expect_close(got["test"], t(oracle_transform(cats, X_test, drop)), UNSEEN,
                     what=f"transform of test rows with unseen values ({what}); test rows {X_test.tolist()[:3]} ...")
        expect_equal(got["names"], oracle_names(cats, drop), NAMES, what=f"get_feature_names() ({what})")


@check("agrees with sklearn's OneHotEncoder(handle_unknown='ignore') on random string/int tables", points=2)
def agrees_random(run):
    agree(run, range(8), None)


@check("agrees with sklearn's OneHotEncoder(drop='first', handle_unknown='ignore') on random tables", points=2)
def agrees_drop_first(run):
    agree(run, range(20, 28), "first")


@check("sorting: ints numerically (2 < 9 < 10 < 100), strings by code point ('B' < '_' < 'a' < 'é')")
def sorting(run):
    X = np.empty((6, 2), dtype=object)
    X[:, 0] = ["a", "é", "B", "_", "a", "ab"]
    X[:, 1] = [10, 9, 100, 2, -1, 10]
    got = run(V.encode, X)
    expect_equal(got["categories"], [["B", "_", "a", "ab", "é"], [-1, 2, 9, 10, 100]],
                 "sort each column's distinct values in their own type: numbers numerically (converting ints to "
                 "strings would put '10' before '9'), strings by code point", what="categories_")
    expect_close(got["train"], t(oracle_transform(oracle_categories(X), X)), ENCODE, what="transform(X)")


@check("unseen values: all-zero block, no error, no new column, every other block intact", points=2)
def unseen_values(run):
    X = np.array([["b", "q"], ["d", "q"], ["f", "r"]])                  # a '<U1' string array
    X_test = np.array([["a", "q"], ["c", "r"], ["e", "s"], ["g", "q"], ["d", "z"]])
    cats = oracle_categories(X)
    got = run(V.encode, X, X_apply=X_test)
    expect_close(got["test"], t(oracle_transform(cats, X_test)), UNSEEN + " (a, c, e, g and s, z are unseen; they "
                 "fall before, between and after the known categories)", what=f"transform({X_test.tolist()})")
    got = run(V.encode, X, X_apply=X_test, drop="first")
    expect_close(got["test"], t(oracle_transform(cats, X_test, "first")), UNSEEN + "; with drop='first' too",
                 what=f"transform({X_test.tolist()}) with drop='first'")


@check("drop='first': a column with a single category contributes no columns and no names")
def single_category_dropped(run):
    X = np.empty((3, 3), dtype=object)
    X[:, 0] = ["k", "k", "k"]
    X[:, 1] = [1, 2, 1]
    X[:, 2] = ["only", "only", "only"]
    X_test = np.array([["k", 2, "other"], ["j", 5, "only"]], dtype=object)
    got = run(V.encode, X, X_apply=X_test, drop="first", input_features=["a", "b", "c"])
    rule = "drop='first' removes the first category of EVERY block: a one-category column is left with no columns"
    expect_close(got["train"], t([[0.0], [1.0], [0.0]]), rule, what="transform(X) with drop='first'")
    expect_close(got["test"], t([[1.0], [0.0]]), rule, what="transform of test rows with drop='first'")
    expect_equal(got["names"], ["b_2"], rule + "; its name goes too", what="get_feature_names(['a', 'b', 'c'])")


@check("get_feature_names(input_features) uses the given names and str(category), dropped ones left out")
def feature_names(run):
    X, _ = random_table(41, d=3, kinds=["int", "str", "int"])
    cats = oracle_categories(X)
    for drop in (None, "first"):
        got = run(V.encode, X, drop=drop, input_features=["age", "city", "n"])
        expect_equal(got["names"], oracle_names(cats, drop, ["age", "city", "n"]),
                     "names are f'{input_features[j]}_{category}', one per output column, in output order",
                     what=f"get_feature_names(['age', 'city', 'n']), drop={drop!r}")
        expect(isinstance(got["names"], list) and all(isinstance(s, str) for s in got["names"]),
               "get_feature_names returns a list of str", f"it returned {describe(got['names'])}")


@check("transform never refits: its output layout depends only on the fitted data; fit again replaces it")
def no_refit(run):
    X, X_test = random_table(51, n=15, d=3)
    cats = oracle_categories(X)
    sub_test = X_test[:2]
    got = run(V.encode, X, X_apply=sub_test)
    expect_close(got["test"], t(oracle_transform(cats, sub_test)), "transform uses the categories learned in fit; "
                 "it never learns categories from the data it is given (the layout must not change)",
                 what=f"transform of 2 test rows {sub_test.tolist()}")
    got = run(V.refit, X_test, X, sub_test)
    expect_equal(got["categories"], cats, "fit replaces the categories learned before", what="categories_ after "
                 "fit(A) then fit(B)")
    expect_close(got["test"], t(oracle_transform(cats, sub_test)), "after fit(A), fit(B) the encoder is B's",
                 what="transform after refitting")


@check("string, int and object arrays all work; the result is float64; fit_transform = fit + transform; "
       "inputs untouched")
def dtypes_and_inputs(run):
    for X in (np.array([["x", "y"], ["y", "y"], ["x", "z"]]), np.array([[5, -1], [3, -1], [5, 0]], dtype=np.int64)):
        cats = oracle_categories(X)
        got = run(V.encode, X, X_apply=X[::-1].copy(), how="fit_transform")
        what = f"a {X.dtype} array {X.tolist()}"
        expect_equal(got["categories"], cats, CATS, what=f"categories_ ({what})")
        expect_close(got["fit_transform"], t(oracle_transform(cats, X)), "fit_transform(X) equals fit(X).transform(X)",
                     what=f"fit_transform ({what})")
        expect_close(got["test"], t(oracle_transform(cats, X[::-1])), ENCODE, what=f"transform of the reversed rows ({what})")
        out = got["fit_transform"]
        if str(getattr(out, "dtype", "")) != "torch.float64":
            raise Fail("transform returns a float64 array", f"it returned {describe(out)}")
        expect_equal(got["inputs_after"]["X_fit"], X.tolist(), "fit and transform leave X unchanged",
                     what=f"X after the calls ({what})")
