# BUG: adds l2 (not n * l2) to the centred normal equations -- J averages the squared error, so the
# penalty's weight relative to Xc^T Xc is n * l2 (the sklearn alpha / mean-loss mix-up).
import torch


def fit_closed_form(X, y, l2=0.0):
    n, d = X.shape
    y = y.to(X.dtype)
    xm, ym = X.mean(dim=0), y.mean()
    Xc, yc = X - xm, y - ym
    G = Xc.T @ Xc + l2 * torch.eye(d, dtype=X.dtype)
    w = torch.linalg.solve(G, Xc.T @ yc)
    return w, ym - xm @ w


def fit_gd(X, y, lr=0.1, epochs=1000, l2=0.0):
    n, d = X.shape
    y = y.to(X.dtype)
    w = torch.zeros(d, dtype=X.dtype)
    b = torch.zeros((), dtype=X.dtype)
    for _ in range(epochs):
        r = X @ w + b - y
        grad_w = X.T @ r / n + l2 * w
        grad_b = r.mean()
        w = w - lr * grad_w
        b = b - lr * grad_b
    return w, b


def predict(X, w, b):
    return X @ w + b
