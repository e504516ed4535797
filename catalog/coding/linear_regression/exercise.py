"""Linear regression two ways: the closed form (solved stably) and batch gradient descent.

Ordinary least squares fits ``y ~ X w + b``.  With an optional ridge penalty on the weights
(never on the intercept) both functions below minimise the same objective

    J(w, b) = (1 / (2n)) * ||X w + b - y||^2 + (l2 / 2) * ||w||^2,

which has the same minimiser as ``sklearn.linear_model.Ridge(alpha=n * l2)`` (scikit-learn
minimises ``||X w + b - y||^2 + alpha ||w||^2``, i.e. ``2n * J``) and, for ``l2 = 0``, as
``LinearRegression`` and ``numpy.linalg.lstsq`` on ``[X, 1]``.

**Closed form.**  Setting the gradient to zero gives the normal equations.  Solving them
*naively* -- form ``A^T A`` for ``A = [X, 1]`` and invert it -- squares the condition number of
``A``: a feature that sits far from 0 (a year, a timestamp, a price around 1e5) is nearly
parallel to the intercept column, and the naive solve loses most of its digits.  Two stable
routes, both fine here:

* centre first, as scikit-learn does: with ``Xc = X - mean(X)``, ``yc = y - mean(y)``, solve the
  ``d x d`` system ``(Xc^T Xc + n l2 I) w = Xc^T yc`` (Cholesky or ``torch.linalg.solve``), then
  ``b = mean(y) - mean(X) . w``;
* or QR: the ridge problem is the plain least-squares problem of the stacked system
  ``[[X, 1], [sqrt(n l2) I, 0]] theta ~ [y, 0]`` (the zero in the last column leaves the
  intercept unpenalised); with ``Q R = A``, solve the triangular ``R theta = Q^T y``.

**Gradient descent.**  ``dJ/dw = X^T r / n + l2 * w`` and ``dJ/db = mean(r)`` with the residual
``r = X w + b - y`` (the 1/2 in ``J`` cancels the 2 of the square).  Start from ``w = 0, b = 0``
and take ``epochs`` full-batch steps of size ``lr``.  ``J`` is a convex quadratic, so with
``lr`` below ``2 / (largest curvature)`` the iterates converge to the closed-form solution.

Write it in torch (or numpy) without ``lstsq``, ``pinv``, autograd or scikit-learn.
"""
from typing import Tuple

import torch


def fit_closed_form(X: torch.Tensor, y: torch.Tensor, l2: float = 0.0) -> Tuple[torch.Tensor, torch.Tensor]:
    """The exact minimiser ``(w, b)`` of ``J`` (see the module), computed stably.

    Args:
        X: float tensor ``(n, d)`` (float32 or float64); the computation is done in its dtype.
        y: float tensor ``(n,)`` of targets (converted to X's dtype).
        l2: the ridge penalty (>= 0) on ``w``; the intercept ``b`` is never penalised.
            With ``l2 = 0`` the matrix ``[X, 1]`` must have full column rank (n >= d + 1, no
            collinear columns); with ``l2 > 0`` any ``n >= 1`` works, ``n < d`` included.

    No explicit inverse and no normal equations of the uncentred ``[X, 1]``: either centre X and
    y first or use a QR factorisation (the module says why).  Features far from 0 (around 1e5)
    must still give accurate ``w`` and ``b``.

    Returns:
        ``(w, b)``: ``w`` of shape ``(d,)`` and ``b`` a 0-dim tensor, both of X's dtype.
        ``X`` and ``y`` are not modified.
    """
    ### BEGIN SOLUTION
    n, d = X.shape
    y = y.to(X.dtype)
    A = torch.cat([X, torch.ones(n, 1, dtype=X.dtype)], dim=1)            # (n, d + 1): intercept column
    t = y
    if l2 > 0:   # ridge = least squares of the stacked system; the 0 column leaves b unpenalised
        P = torch.cat([(n * l2) ** 0.5 * torch.eye(d, dtype=X.dtype), torch.zeros(d, 1, dtype=X.dtype)], dim=1)
        A = torch.cat([A, P], dim=0)                                       # (n + d, d + 1)
        t = torch.cat([y, torch.zeros(d, dtype=X.dtype)])                  # (n + d,)
    Q, R = torch.linalg.qr(A)                                              # (m, d + 1), (d + 1, d + 1)
    theta = torch.linalg.solve_triangular(R, (Q.T @ t).unsqueeze(1), upper=True).squeeze(1)   # (d + 1,)
    return theta[:d].clone(), theta[d].clone()
    ### END SOLUTION


def fit_gd(X: torch.Tensor, y: torch.Tensor, lr: float = 0.1, epochs: int = 1000,
           l2: float = 0.0) -> Tuple[torch.Tensor, torch.Tensor]:
    """``(w, b)`` after ``epochs`` steps of full-batch gradient descent on ``J`` from zeros.

    Args:
        X: float tensor ``(n, d)`` (float32 or float64); the computation is done in its dtype.
        y: float tensor ``(n,)`` of targets (converted to X's dtype).
        lr: the step size.
        epochs: the number of gradient steps (0 returns the starting point).
        l2: the ridge penalty on ``w`` (not on ``b``).

    Starting from ``w = 0, b = 0``, every step computes ``r = X w + b - y`` and, at that same
    point, ``grad_w = X^T r / n + l2 * w`` and ``grad_b = mean(r)``, then moves
    ``w -= lr * grad_w``, ``b -= lr * grad_b``.

    Returns:
        ``(w, b)``: ``w`` of shape ``(d,)`` and ``b`` a 0-dim tensor, both of X's dtype.
        ``X`` and ``y`` are not modified.
    """
    ### BEGIN SOLUTION
    n, d = X.shape
    y = y.to(X.dtype)
    w = torch.zeros(d, dtype=X.dtype)
    b = torch.zeros((), dtype=X.dtype)
    for _ in range(epochs):
        r = X @ w + b - y                                                  # (n,) residual
        grad_w = X.T @ r / n + l2 * w                                      # (d,)
        grad_b = r.mean()
        w = w - lr * grad_w
        b = b - lr * grad_b
    return w, b
    ### END SOLUTION


def predict(X: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Predictions ``X w + b``, shape ``(n,)``, of X's dtype."""
    ### BEGIN SOLUTION
    return X @ w + b
    ### END SOLUTION
