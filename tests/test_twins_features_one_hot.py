"""features/one_hot against scikit-learn: the reference (solutions/) and the grader's own pure-Python
oracle (graders/) agree with ``sklearn.preprocessing.OneHotEncoder(handle_unknown="ignore",
sparse_output=False)`` -- with and without ``drop="first"`` -- on the grader's random string/int
tables (categories_, train and test encodings with unseen values, get_feature_names_out), on
'<U' string arrays and int arrays, and on one-category columns under drop="first"."""
import warnings

import numpy as np
import pytest

preprocessing = pytest.importorskip("sklearn.preprocessing")

from mlkata.engine import load_module  # noqa: E402
from helpers import ROOT  # noqa: E402

REF = load_module(str(ROOT / "solutions" / "features" / "one_hot.py"), "twins_features_one_hot_reference")
ORACLE = load_module(str(ROOT / "graders" / "features" / "one_hot.py"), "twins_features_one_hot_grader")


def tables():
    for seed in list(range(8)) + list(range(20, 28)) + [41, 51, 60, 61, 62]:
        yield ORACLE.random_table(seed)
    yield np.array([["b", "q"], ["d", "q"], ["f", "r"]]), np.array([["a", "q"], ["c", "r"], ["e", "s"], ["g", "q"]])
    yield np.array([[5, -1], [3, -1], [5, 0]]), np.array([[5, 0], [4, -1], [3, 7]])
    X = np.empty((3, 3), dtype=object)
    X[:, 0], X[:, 1], X[:, 2] = ["k", "k", "k"], [1, 2, 1], ["only", "only", "only"]
    yield X, np.array([["k", 2, "other"], ["j", 5, "only"]], dtype=object)


CASES = list(tables())


@pytest.mark.parametrize("case", range(len(CASES)))
@pytest.mark.parametrize("drop", [None, "first"])
def test_one_hot_matches_sklearn(case, drop):
    X, X_test = CASES[case]
    sk = preprocessing.OneHotEncoder(handle_unknown="ignore", sparse_output=False, drop=drop).fit(X)
    ref = REF.OneHotEncoder(drop=drop).fit(X)
    cats = ORACLE.oracle_categories(X)
    assert [c.tolist() for c in sk.categories_] == [c.tolist() for c in ref.categories_] == cats
    for data in (X, X_test):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")       # sklearn warns about unknown (and dropped) categories
            want = sk.transform(data)
        np.testing.assert_array_equal(ref.transform(data), want)
        np.testing.assert_array_equal(ORACLE.oracle_transform(cats, data, drop), want)
    names = sk.get_feature_names_out().tolist()
    assert ref.get_feature_names() == names == ORACLE.oracle_names(cats, drop)
    cols = [f"c{j}" for j in range(X.shape[1])]
    assert ref.get_feature_names(cols) == sk.get_feature_names_out(cols).tolist() == ORACLE.oracle_names(cats, drop, cols)
