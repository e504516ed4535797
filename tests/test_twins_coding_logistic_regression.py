"""coding/logistic_regression against scikit-learn: ``LogisticRegression(C=1/(n*l2))`` minimises
``C * sum(log loss) + ||w||^2 / 2`` with an unpenalised intercept (lbfgs), which is the contract's
J = mean log loss + (l2 / 2) ||w||^2 scaled by C * n.  The reference (solutions/, a long
gradient-descent run) and the grader's own oracle (graders/, Newton's method in float64) both
land on scikit-learn's coefficients and intercept, and predict the same labels and
probabilities; ``C=inf`` (no penalty) matches l2 = 0 on overlapping (not separable) classes.
"""
import pytest
import torch

sklearn_lm = pytest.importorskip("sklearn.linear_model")

from mlkata.engine import load_module  # noqa: E402
from helpers import ROOT  # noqa: E402

REF = load_module(str(ROOT / "solutions" / "coding" / "logistic_regression.py"), "twins_coding_logreg_reference")
ORACLE = load_module(str(ROOT / "graders" / "coding" / "logistic_regression.py"), "twins_coding_logreg_grader")


EPOCHS = 4000


def sklearn_fit(X, y, l2):
    n = X.shape[0]
    C = 1.0 / (n * l2) if l2 > 0 else float("inf")          # C = inf: no penalty
    model = sklearn_lm.LogisticRegression(C=C, tol=1e-12, max_iter=100_000)
    return model.fit(X.numpy(), y.numpy())


@pytest.mark.parametrize("seed,l2,sep", [(0, 0.01, 2.0), (1, 0.1, 2.0), (2, 0.001, 3.0), (3, 0.05, 1.0),
                                         (4, 0.0, 1.0), (5, 0.0, 0.7)])
def test_reference_and_oracle_match_sklearn(seed, l2, sep):
    X, y = ORACLE.dataset(1000 + seed, n=150, d=4, sep=sep, bias=0.7)
    model = sklearn_fit(X, y, l2)
    coef = torch.from_numpy(model.coef_[0])
    intercept = float(model.intercept_[0])

    w_star, b_star = ORACLE.newton_oracle(X, y, l2)
    torch.testing.assert_close(w_star, coef, rtol=1e-6, atol=1e-6)
    assert abs(float(b_star) - intercept) < 1e-6

    w, b = REF.fit(X, y, lr=1.0, epochs=EPOCHS, l2=l2)
    torch.testing.assert_close(w, coef, rtol=1e-5, atol=1e-5)
    assert abs(float(b) - intercept) < 1e-5

    Xq = torch.randn(300, 4, generator=torch.Generator().manual_seed(seed), dtype=torch.float64) * 2
    assert torch.equal(REF.predict(Xq, w, b), torch.from_numpy(model.predict(Xq.numpy())).long())
    torch.testing.assert_close(REF.predict_proba(Xq, w, b), torch.from_numpy(model.predict_proba(Xq.numpy())[:, 1]),
                               rtol=1e-5, atol=1e-6)


def test_sigmoid_matches_scipy_expit():
    special = pytest.importorskip("scipy.special")
    z = torch.linspace(-700, 700, 2001, dtype=torch.float64)          # no subnormal results
    torch.testing.assert_close(REF.sigmoid(z), torch.from_numpy(special.expit(z.numpy())), rtol=1e-13, atol=0.0)
