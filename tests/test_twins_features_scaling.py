"""features/scaling against scikit-learn: the reference (solutions/) and the grader's own numpy oracle
(graders/) agree with ``sklearn.preprocessing.StandardScaler()`` and ``MinMaxScaler(feature_range)``
on the grader's random data (fitted attributes, train and test transforms, inverse), on constant
columns at rounding-noise level (sklearn's ``_is_constant_feature`` also gives them scale 1), on the
1e9-offset column and on tiny/huge scales."""
import numpy as np
import pytest

preprocessing = pytest.importorskip("sklearn.preprocessing")

from mlkata.engine import load_module  # noqa: E402
from helpers import ROOT  # noqa: E402

REF = load_module(str(ROOT / "solutions" / "features" / "scaling.py"), "twins_features_scaling_reference")
ORACLE = load_module(str(ROOT / "graders" / "features" / "scaling.py"), "twins_features_scaling_grader")


def datasets():
    for seed in range(20):
        yield ORACLE.random_data(seed)
    rng = np.random.default_rng(0)
    X = np.array([[3.0, 0.1, 0.0, 1.0]] * 7)
    X[:, 3] = [1.0, 2.0, 0.0, 5.0, 3.0, 1.0, 2.0]
    yield X, np.array([[4.0, 0.1, -1.0, 2.0]])
    yield 1e9 + rng.standard_normal((200, 2)) * [1.0, 3.0], 1e9 + rng.standard_normal((5, 2))
    X = rng.standard_normal((50, 3)) * [1e-8, 1e8, 1e-12] + [0.0, 5e7, 1e-10]
    yield X, X[:4] * 1.5
    yield np.array([[2.0, -3.0, 0.5]]), np.array([[3.0, -3.0, 0.0]])


@pytest.mark.parametrize("case", range(24))
def test_standard_scaler_matches_sklearn(case):
    X, X_test = list(datasets())[case]
    sk = preprocessing.StandardScaler().fit(X)
    ref = REF.StandardScaler().fit(X)
    oracle = ORACLE.standard_oracle(X)
    for name in ("mean_", "var_", "scale_"):
        np.testing.assert_allclose(getattr(ref, name), getattr(sk, name), rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(oracle[name], getattr(sk, name), rtol=1e-9, atol=1e-12)
    for data in (X, X_test):
        want = sk.transform(data)
        tol = dict(rtol=1e-6, atol=1e-6) if np.abs(X).max() > 1e8 else dict(rtol=1e-7, atol=1e-9)
        np.testing.assert_allclose(ref.transform(data), want, **tol)
        np.testing.assert_allclose(ORACLE.standardise(oracle, data), want, **tol)
    Z = np.random.default_rng(case).standard_normal(X_test.shape)
    np.testing.assert_allclose(ref.inverse_transform(Z), sk.inverse_transform(Z), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("case", range(24))
@pytest.mark.parametrize("fr", [(0.0, 1.0), (-1.0, 1.0), (2.0, 5.0), (-3.5, -0.5)])
def test_minmax_scaler_matches_sklearn(case, fr):
    X, X_test = list(datasets())[case]
    sk = preprocessing.MinMaxScaler(feature_range=fr).fit(X)
    ref = REF.MinMaxScaler(feature_range=fr).fit(X)
    oracle = ORACLE.minmax_oracle(X, fr)
    for name in ("data_min_", "data_max_", "scale_", "min_"):
        np.testing.assert_allclose(getattr(ref, name), getattr(sk, name), rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(oracle[name], getattr(sk, name), rtol=1e-9, atol=1e-12)
    for data in (X, X_test):
        want = sk.transform(data)
        np.testing.assert_allclose(ref.transform(data), want, rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(ORACLE.minmax(oracle, data), want, rtol=1e-9, atol=1e-9)
    Z = np.random.default_rng(case).uniform(fr[0], fr[1], size=X_test.shape)
    np.testing.assert_allclose(ref.inverse_transform(Z), sk.inverse_transform(Z), rtol=1e-9, atol=1e-9)
