"""features/target_encoding against scikit-learn: for a float ``smooth`` sklearn's TargetEncoder uses
exactly the contract's formula ``(sum_c + m * mean) / (n_c + m)`` (``_fit_encoding_fast`` in
sklearn/preprocessing/_target_encoder_fast.pyx; a category with no rows gets the mean), and its
``fit_transform`` cross-fits with the given ``cv`` using each split's own training mean.  So with
``cv=PredefinedSplit(folds)`` the reference (solutions/) and the grader's loop oracle (graders/)
must reproduce sklearn's out-of-fold encodings, and ``fit(...).transform`` its test encodings,
for continuous and binary targets.  sklearn's default ``smooth="auto"`` (empirical-Bayes weights
from the within-category variance) is NOT our formula: the last test shows it differs."""
import numpy as np
import pytest

preprocessing = pytest.importorskip("sklearn.preprocessing")
model_selection = pytest.importorskip("sklearn.model_selection")

from mlkata.engine import load_module  # noqa: E402
from helpers import ROOT  # noqa: E402

REF = load_module(str(ROOT / "solutions" / "features" / "target_encoding.py"), "twins_features_te_reference")
ORACLE = load_module(str(ROOT / "graders" / "features" / "target_encoding.py"), "twins_features_te_grader")


def sklearn_encoder(y, m, folds):
    binary = set(np.unique(y).tolist()) <= {0.0, 1.0}
    test_fold = np.unique(folds, return_inverse=True)[1]          # ids 0..K-1 for PredefinedSplit
    return preprocessing.TargetEncoder(target_type="binary" if binary else "continuous", smooth=m,
                                       cv=model_selection.PredefinedSplit(test_fold))


@pytest.mark.parametrize("seed", list(range(30)) + [41, 51, 61])
@pytest.mark.parametrize("m", [0.0, 0.5, 1.0, 10.0, 1e6])
def test_reference_and_oracle_match_sklearn(seed, m):
    x, y, folds, x_test = ORACLE.random_column(seed)
    sk = sklearn_encoder(y, m, folds)
    want_oof = sk.fit_transform(x.reshape(-1, 1), y)[:, 0]
    want_test = sk.transform(x_test.reshape(-1, 1))[:, 0]

    ref = REF.TargetEncoder(smoothing=m)
    np.testing.assert_allclose(ref.fit_transform(x, y, folds), want_oof, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ref.transform(x_test), want_test, rtol=1e-10, atol=1e-12)
    assert ref.global_mean_ == pytest.approx(float(sk.target_mean_), rel=1e-12)

    np.testing.assert_allclose(ORACLE.oracle_oof(x, y, folds, m), want_oof, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ORACLE.oracle_transform(ORACLE.oracle_fit(x, y, m), x_test), want_test,
                               rtol=1e-10, atol=1e-12)


def test_sklearn_auto_smoothing_is_a_different_formula():
    x, y, folds, x_test = ORACLE.random_column(3, n=60, binary=False)
    auto = preprocessing.TargetEncoder(target_type="continuous").fit(x.reshape(-1, 1), y)
    ours = REF.TargetEncoder(smoothing=1.0).fit(x, y)
    assert not np.allclose(auto.transform(x.reshape(-1, 1))[:, 0], ours.transform(x), rtol=1e-3)
