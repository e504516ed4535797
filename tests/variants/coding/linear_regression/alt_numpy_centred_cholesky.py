# CORRECT, written differently: numpy throughout; the closed form centres the data and solves the
# d x d ridge system by a Cholesky factor (two triangular solves by hand); gradient descent works on
# the augmented parameter vector theta = (w, b) with a penalty mask.
import numpy as np
import torch


def _np(t, dtype):
    return t.detach().cpu().numpy().astype(dtype, copy=True)


def _forward(L, v):
    """Solve L z = v for lower-triangular L."""
    z = np.zeros_like(v)
    for i in range(len(v)):
        z[i] = (v[i] - L[i, :i] @ z[:i]) / L[i, i]
    return z


def _backward(U, v):
    """Solve U z = v for upper-triangular U."""
    z = np.zeros_like(v)
    for i in reversed(range(len(v))):
        z[i] = (v[i] - U[i, i + 1:] @ z[i + 1:]) / U[i, i]
    return z


def fit_closed_form(X, y, l2=0.0):
    dt = X.numpy().dtype
    Xn, yn = _np(X, dt), _np(y, dt)
    n, d = Xn.shape
    mx, my = Xn.sum(axis=0) / n, yn.sum() / n
    Xc, yc = Xn - mx, yn - my
    G = Xc.T @ Xc + (n * l2) * np.eye(d, dtype=dt)
    L = np.linalg.cholesky(G)
    w = _backward(L.T, _forward(L, Xc.T @ yc))
    b = my - mx @ w
    return torch.from_numpy(w), torch.tensor(b, dtype=X.dtype)


def fit_gd(X, y, lr=0.1, epochs=1000, l2=0.0):
    dt = X.numpy().dtype
    Xn, yn = _np(X, dt), _np(y, dt)
    n, d = Xn.shape
    A = np.concatenate([Xn, np.ones((n, 1), dtype=dt)], axis=1)
    mask = np.concatenate([np.full(d, l2, dtype=dt), np.zeros(1, dtype=dt)])
    theta = np.zeros(d + 1, dtype=dt)
    for _ in range(epochs):
        theta = theta - lr * (A.T @ (A @ theta - yn) / n + mask * theta)
    return torch.from_numpy(theta[:d].copy()), torch.tensor(theta[d], dtype=X.dtype)


def predict(X, w, b):
    return torch.from_numpy(X.numpy() @ w.numpy() + b.numpy())
