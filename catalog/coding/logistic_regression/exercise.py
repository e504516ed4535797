"""Binary logistic regression trained by batch gradient descent, gradient written by hand.

Logistic regression models ``P(y = 1 | x) = sigmoid(x . w + b)`` and is fitted by minimising
the mean log loss (binary cross-entropy) plus an L2 penalty on the weights (not on the bias):

    J(w, b) = mean_i[ -y_i log p_i - (1 - y_i) log(1 - p_i) ] + (l2 / 2) ||w||^2,
    p_i = sigmoid(z_i),  z_i = x_i . w + b.

Its gradient has the famous simple form -- the same as least squares, with ``p`` in place of the
prediction:

    dJ/dw = X^T (p - y) / n + l2 * w,        dJ/db = mean(p - y).

Batch gradient descent starts from ``w = 0, b = 0`` and takes ``epochs`` full-batch steps
``w -= lr * dJ/dw, b -= lr * dJ/db`` (both gradients taken at the same point).  J is convex,
so for a small enough ``lr`` it converges to the unique minimiser -- the solution that
``sklearn.linear_model.LogisticRegression(C=1 / (n * l2))`` finds (scikit-learn minimises
``C * sum(log loss) + ||w||^2 / 2``, the same objective scaled by ``C * n``).

The sigmoid must be stable: ``exp(z) / (1 + exp(z))`` is ``inf / inf = nan`` for z above ~88 in
float32, and ``1 - 1 / (1 + exp(z))`` loses every digit of small probabilities.  Evaluate
``exp`` only at ``-|z|`` (never positive, so never overflowing) and pick the form by the sign.

Write it in torch (or numpy) without autograd, ``torch.sigmoid`` or scikit-learn.
"""
from typing import Tuple

import torch


def sigmoid(z: torch.Tensor) -> torch.Tensor:
    """The logistic function ``1 / (1 + exp(-z))``, elementwise and stable.

    Args:
        z: float tensor of any shape (float32 or float64).

    Returns:
        a tensor of the shape and dtype of ``z``, in ``[0, 1]``, finite for every finite ``z``
        (``|z|`` of 1e4 included) and accurate to a few ulps *relative* to the value, also in the
        tails (sigmoid(-30) = 9.357623e-14, not 0 or 9.2e-14).  ``z`` is not modified.
    """
    ### BEGIN SOLUTION
    e = torch.exp(-z.abs())                             # in (0, 1]: never overflows
    return torch.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    ### END SOLUTION


def fit(X: torch.Tensor, y: torch.Tensor, lr: float = 0.1, epochs: int = 1000,
        l2: float = 0.0) -> Tuple[torch.Tensor, torch.Tensor]:
    """Fit ``w, b`` by ``epochs`` steps of full-batch gradient descent on ``J`` (see the module).

    Args:
        X: float tensor ``(n, d)`` (float32 or float64); the computation is done in its dtype.
        y: tensor ``(n,)`` of labels 0/1, of any dtype (int64, float or bool).
        lr: the step size.
        epochs: the number of gradient steps (0 returns the starting point).
        l2: the L2 penalty strength; the bias is not penalised.

    Starting from ``w = 0, b = 0``, every step computes ``p = sigmoid(X w + b)`` and then, at that
    same point, ``grad_w = X^T (p - y) / n + l2 * w`` and ``grad_b = mean(p - y)``, and moves
    ``w -= lr * grad_w``, ``b -= lr * grad_b``.

    Returns:
        ``(w, b)``: ``w`` of shape ``(d,)`` and ``b`` a 0-dim tensor, both of X's dtype; finite
        whenever the steps are (huge features included).  ``X`` and ``y`` are not modified.
    """
    ### BEGIN SOLUTION
    n, d = X.shape
    y = y.to(X.dtype)
    w = torch.zeros(d, dtype=X.dtype)
    b = torch.zeros((), dtype=X.dtype)
    for _ in range(epochs):
        r = sigmoid(X @ w + b) - y                      # (n,) residual p - y
        grad_w = X.T @ r / n + l2 * w                   # (d,)
        grad_b = r.mean()
        w = w - lr * grad_w
        b = b - lr * grad_b
    return w, b
    ### END SOLUTION


def predict_proba(X: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``P(y = 1 | x)`` for every row: ``sigmoid(X w + b)``, shape ``(n,)``, X's dtype."""
    ### BEGIN SOLUTION
    return sigmoid(X @ w + b)
    ### END SOLUTION


def predict(X: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Class labels, shape ``(n,)``, int64: 1 where ``X w + b > 0`` (probability above 1/2), else 0.

    A row exactly on the boundary (``X w + b == 0``) is class 0, as in scikit-learn.
    """
    ### BEGIN SOLUTION
    return (X @ w + b > 0).long()
    ### END SOLUTION
