"""Library twins of coding/naive_bayes: the reference and the grader's closed-form oracles agree
with scikit-learn's ``GaussianNB(var_smoothing=...)`` (``class_log_prior`` from ``class_prior_``,
``theta_``, ``var_``, ``predict_log_proba``, ``predict``) and ``MultinomialNB(alpha=...)``
(``class_log_prior_``, ``feature_log_prob_``, ``predict_log_proba``) on random data."""
from pathlib import Path

import pytest
import torch

from mlkata.engine import load_module

naive_bayes = pytest.importorskip("sklearn.naive_bayes")

ROOT = Path(__file__).resolve().parent.parent
REF = load_module(str(ROOT / "solutions" / "coding" / "naive_bayes.py"), "_twin_ref_naive_bayes")
GRADER = load_module(str(ROOT / "graders" / "coding" / "naive_bayes.py"), "_twin_grader_naive_bayes")
V = GRADER.V


@pytest.mark.parametrize("seed,N,D,C,vs", [(0, 60, 3, 2, 1e-9), (1, 100, 5, 4, 1e-9), (2, 40, 2, 3, 1e-2),
                                           (3, 9, 7, 3, 0.5)])
def test_gaussian_matches_sklearn(seed, N, D, C, vs):
    X, y = GRADER.blobs(seed, N, D, C)
    X_test, _ = GRADER.blobs(seed + 50, 30, D, C)
    sk = naive_bayes.GaussianNB(var_smoothing=vs).fit(X.numpy(), y.numpy())
    for model in (REF.gaussian_nb_fit(X, y, C, vs), V.gaussian_oracle(X, y, C, vs)):
        torch.testing.assert_close(model["log_prior"], torch.from_numpy(sk.class_prior_).log(), rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(model["mean"], torch.from_numpy(sk.theta_), rtol=1e-10, atol=1e-12)
        torch.testing.assert_close(model["var"], torch.from_numpy(sk.var_), rtol=1e-10, atol=1e-12)
    model = REF.gaussian_nb_fit(X, y, C, vs)
    want = torch.from_numpy(sk.predict_log_proba(X_test.numpy()))
    torch.testing.assert_close(REF.gaussian_nb_log_proba(model, X_test), want, rtol=1e-8, atol=1e-8)
    torch.testing.assert_close(V.log_proba_oracle("gaussian", model, X_test), want, rtol=1e-8, atol=1e-8)
    assert torch.equal(REF.predict(REF.gaussian_nb_log_proba(model, X_test)), torch.from_numpy(sk.predict(X_test.numpy())))


@pytest.mark.parametrize("seed,N,D,C,alpha", [(10, 40, 10, 3, 1.0), (11, 60, 20, 4, 0.5), (12, 15, 6, 2, 0.01)])
def test_multinomial_matches_sklearn(seed, N, D, C, alpha):
    X, y = GRADER.counts(seed, N, D, C)
    X_test, _ = GRADER.counts(seed + 50, 25, D, C)
    sk = naive_bayes.MultinomialNB(alpha=alpha, force_alpha=True).fit(X.numpy(), y.numpy())
    for model in (REF.multinomial_nb_fit(X, y, C, alpha), V.multinomial_oracle(X, y, C, alpha)):
        torch.testing.assert_close(model["log_prior"], torch.from_numpy(sk.class_log_prior_), rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(model["feature_log_prob"], torch.from_numpy(sk.feature_log_prob_), rtol=1e-10,
                                   atol=1e-12)
    model = REF.multinomial_nb_fit(X, y, C, alpha)
    want = torch.from_numpy(sk.predict_log_proba(X_test.numpy()))
    torch.testing.assert_close(REF.multinomial_nb_log_proba(model, X_test), want, rtol=1e-8, atol=1e-8)
    assert torch.equal(REF.predict(REF.multinomial_nb_log_proba(model, X_test)),
                       torch.from_numpy(sk.predict(X_test.numpy())))
