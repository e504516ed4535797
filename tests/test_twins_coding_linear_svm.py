"""Library twins of coding/linear_svm.  ``sklearn.svm.SVC(kernel="linear", C=1 / (lam n))`` solves
the same soft-margin problem exactly (its objective ``0.5 ||w||^2 + C sum hinge`` is the contract's
``J / lam``, with an unregularised intercept): the reference's Pegasos iterates approach its
objective value and its hyperplane, and the reference's objective evaluated at SVC's solution is
the minimum.  The subgradient equals ``torch.autograd`` of the objective away from the kinks."""
import math
from pathlib import Path

import pytest
import torch

from mlkata.engine import load_module

svm = pytest.importorskip("sklearn.svm")

ROOT = Path(__file__).resolve().parent.parent
REF = load_module(str(ROOT / "solutions" / "coding" / "linear_svm.py"), "_twin_ref_linear_svm")
GRADER = load_module(str(ROOT / "graders" / "coding" / "linear_svm.py"), "_twin_grader_linear_svm")


@pytest.mark.parametrize("seed,n,D,lam,sep", [(0, 80, 2, 0.05, 2.0), (1, 120, 5, 0.1, 1.0), (2, 60, 3, 0.02, 3.0)])
def test_pegasos_approaches_svc(seed, n, D, lam, sep):
    X, y = GRADER.data(seed, n, D, sep=sep)
    svc = svm.SVC(kernel="linear", C=1.0 / (lam * n), tol=1e-10).fit(X.numpy(), y.numpy())
    w_star = torch.tensor(svc.coef_[0], dtype=torch.float64)
    b_star = float(svc.intercept_[0])
    J_star = float(REF.hinge_objective(w_star, b_star, X, y, lam))
    w, b = REF.fit_linear_svm(X, y, lam, 5000)
    J = float(REF.hinge_objective(w, float(b), X, y, lam))
    assert J_star <= J + 1e-9                                  # SVC's solution is the minimum of the contract's J
    assert J <= J_star * 1.02 + 1e-3                           # Pegasos gets within 2% after 5000 iterations
    cosine = float(w @ w_star / (w.norm() * w_star.norm()))
    assert cosine > 0.995
    agree = (REF.predict(w, float(b), X) == torch.from_numpy(svc.predict(X.numpy())).long()).double().mean()
    assert agree >= 0.95
    assert GRADER.V.objective_oracle(w_star, b_star, X, y, lam) == pytest.approx(J_star, rel=1e-12)


@pytest.mark.parametrize("seed", range(4))
def test_subgradient_is_autograds_gradient_away_from_kinks(seed):
    X, y = GRADER.data(10 + seed, 40, 4)
    w, b = GRADER.params(20 + seed, 4)
    wr = w.clone().requires_grad_(True)
    br = torch.tensor(b, dtype=torch.float64, requires_grad=True)
    gw, gb = torch.autograd.grad(REF.hinge_objective(wr, br, X, y, 0.3), [wr, br])
    got_w, got_b = REF.hinge_subgradient(w, b, X, y, 0.3)
    torch.testing.assert_close(got_w, gw, rtol=1e-12, atol=1e-12)
    assert float(got_b) == pytest.approx(float(gb), abs=1e-12)
    assert not math.isnan(float(got_b))
