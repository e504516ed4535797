"""A linear support vector machine: the hinge loss, its subgradient, and Pegasos.

A linear SVM looks for the separating hyperplane ``w . x + b = 0`` with the widest margin.  In
its soft-margin, primal form (labels ``y in {-1, +1}``) it minimises

    J(w, b) = (lam / 2) ||w||^2 + (1 / n) sum_i max(0, 1 - y_i (w . x_i + b))

-- an L2 penalty on ``w`` (not on the bias) plus the mean *hinge loss*: points on the right side
with margin ``y f(x) >= 1`` cost nothing; the others cost linearly.  ``J`` is convex but not
differentiable where a margin is exactly 1, so we descend along a *subgradient*; the convention
here (as for ReLU in torch) takes the hinge's slope there to be 0:

    dJ/dw = lam w - (1 / n) sum_{i: y_i f(x_i) < 1} y_i x_i,       dJ/db = -(1 / n) sum_{i: y_i f(x_i) < 1} y_i

*Pegasos* (Shalev-Shwartz et al., 2007), here in its deterministic full-batch form, starts from
``w = 0, b = 0`` and takes step ``eta_t = 1 / (lam t)`` at iteration ``t = 1, 2, ...``.  The
minimiser is the SVM of ``sklearn.svm.SVC(kernel="linear", C=1 / (lam n))`` (whose objective is
``J / lam``, with an unregularised intercept); tests/test_twins_coding_linear_svm.py compares.
"""
from typing import Tuple

import torch


def hinge_objective(w: torch.Tensor, b: float, X: torch.Tensor, y: torch.Tensor, lam: float) -> torch.Tensor:
    """``J(w, b)`` as in the module docstring.

    Args:
        w: ``(D,)``; b: a float; X: ``(n, D)`` of ``w``'s dtype; y: ``(n,)`` of ``-1.0`` / ``+1.0``
            in ``X``'s dtype; lam: ``>= 0``.

    Returns:
        a 0-dim tensor in ``X``'s dtype.
    """
    ### BEGIN SOLUTION
    margins = y * (X @ w + b)                                         # (n,)
    return 0.5 * lam * (w @ w) + torch.clamp(1 - margins, min=0).mean()
    ### END SOLUTION


def hinge_subgradient(w: torch.Tensor, b: float, X: torch.Tensor, y: torch.Tensor, lam: float
                      ) -> Tuple[torch.Tensor, torch.Tensor]:
    """The subgradient ``(dJ/dw (D,), dJ/db 0-dim)`` of the module docstring: only points with
    margin STRICTLY below 1 contribute (a margin of exactly 1 contributes 0).  The bias is not
    regularised.  In ``X``'s dtype."""
    ### BEGIN SOLUTION
    violating = (y * (X @ w + b) < 1).to(X.dtype)                     # (n,) 1 where the hinge is active
    coef = violating * y / X.shape[0]                                 # (n,)
    return lam * w - coef @ X, -coef.sum()
    ### END SOLUTION


def fit_linear_svm(X: torch.Tensor, y: torch.Tensor, lam: float, iterations: int
                   ) -> Tuple[torch.Tensor, torch.Tensor]:
    """Deterministic full-batch Pegasos: ``w = 0 (D,)``, ``b = 0``; for ``t = 1 .. iterations``:
    ``(gw, gb) = hinge_subgradient(w, b, X, y, lam)``, ``w -= gw / (lam t)``, ``b -= gb / (lam t)``.

    Args:
        X: ``(n, D)`` float; y: ``(n,)`` of ``-1.0`` / ``+1.0``; lam: ``> 0``; iterations: ``>= 0``.

    Returns:
        ``(w (D,), b 0-dim)`` in ``X``'s dtype.  No input is modified.
    """
    ### BEGIN SOLUTION
    w = torch.zeros(X.shape[1], dtype=X.dtype)
    b = torch.zeros((), dtype=X.dtype)
    for t in range(1, iterations + 1):
        gw, gb = hinge_subgradient(w, b, X, y, lam)
        step = 1.0 / (lam * t)
        w, b = w - step * gw, b - step * gb
    return w, b
    ### END SOLUTION


def predict(w: torch.Tensor, b: float, X: torch.Tensor) -> torch.Tensor:
    """``+1`` where ``w . x + b >= 0``, else ``-1``: int64 ``(n,)``."""
    ### BEGIN SOLUTION
    return torch.where(X @ w + b >= 0, 1, -1).to(torch.int64)
    ### END SOLUTION
