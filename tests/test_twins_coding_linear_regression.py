"""coding/linear_regression against scikit-learn: ``LinearRegression`` (l2 = 0) and
``Ridge(alpha=n * l2)`` (scikit-learn minimises ``||X w + b - y||^2 + alpha ||w||^2`` with an
unpenalised intercept, i.e. ``2n`` times the contract's J).  The reference (solutions/: QR of the
stacked system; a long gradient-descent run) and the grader's own oracles (graders/: numpy's
lstsq on [X, 1], the centred ridge solve) all land on scikit-learn's coefficients and intercept,
also for features far from zero and for ridge with fewer rows than features.
"""
import numpy as np
import pytest
import torch

sklearn_lm = pytest.importorskip("sklearn.linear_model")

from mlkata.engine import load_module  # noqa: E402
from helpers import ROOT  # noqa: E402

REF = load_module(str(ROOT / "solutions" / "coding" / "linear_regression.py"), "twins_coding_linreg_reference")
ORACLE = load_module(str(ROOT / "graders" / "coding" / "linear_regression.py"), "twins_coding_linreg_grader")


def sklearn_fit(X, y, l2):
    n = X.shape[0]
    if l2 == 0:
        model = sklearn_lm.LinearRegression()
    else:
        model = sklearn_lm.Ridge(alpha=n * l2, solver="cholesky")
    model.fit(X.numpy(), y.numpy())
    return torch.from_numpy(np.asarray(model.coef_, dtype=np.float64)), float(model.intercept_)


CASES = [(0, 0.0, 0.0, None, None), (1, 0.0, 3.0, 40, 4), (2, 0.1, 0.0, 30, 5), (3, 2.0, -5.0, 25, 3),
         (4, 0.0, 1e5, 50, 3), (5, 0.3, 1e5, 50, 2), (6, 0.5, 0.0, 4, 10), (7, 0.01, 0.0, 200, 6)]


@pytest.mark.parametrize("seed,l2,offset,n,d", CASES)
def test_closed_form_and_oracles_match_sklearn(seed, l2, offset, n, d):
    X, y = ORACLE.dataset(2000 + seed, n=n, d=d, offset=offset)
    coef, intercept = sklearn_fit(X, y, l2)
    tol = dict(rtol=1e-7, atol=1e-8)

    w, b = REF.fit_closed_form(X, y, l2)
    torch.testing.assert_close(w, coef, **tol)
    assert abs(float(b) - intercept) <= 1e-8 + 1e-7 * abs(intercept)

    w_o, b_o = ORACLE.ridge_oracle(X, y, l2)
    torch.testing.assert_close(w_o, coef, **tol)
    assert abs(b_o - intercept) <= 1e-8 + 1e-7 * abs(intercept)
    if l2 == 0:
        w_l, b_l = ORACLE.lstsq_oracle(X, y)
        torch.testing.assert_close(w_l, coef, **tol)
        assert abs(b_l - intercept) <= 1e-8 + 1e-7 * abs(intercept)

    Xq = torch.randn(20, X.shape[1], generator=torch.Generator().manual_seed(seed), dtype=torch.float64) + offset
    model_pred = Xq @ coef + intercept
    torch.testing.assert_close(REF.predict(Xq, w, b), model_pred, rtol=1e-7, atol=1e-6)


@pytest.mark.parametrize("seed,l2", [(0, 0.0), (1, 0.05), (2, 1.0)])
def test_gradient_descent_reaches_sklearn(seed, l2):
    X, y = ORACLE.dataset(3000 + seed, n=150, d=4, offset=0.5)
    coef, intercept = sklearn_fit(X, y, l2)
    w, b = REF.fit_gd(X, y, lr=0.3, epochs=3000, l2=l2)
    torch.testing.assert_close(w, coef, rtol=1e-8, atol=1e-9)
    assert abs(float(b) - intercept) < 1e-8
