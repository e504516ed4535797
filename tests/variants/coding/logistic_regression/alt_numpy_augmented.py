# CORRECT, written differently: numpy in float64 on the augmented matrix [X, 1] with a penalty mask that spares
# the bias; the sigmoid splits the two signs with boolean indexing; results cast back to X's dtype.
import numpy as np
import torch


def _sigmoid_np(z):
    out = np.empty_like(z)
    pos = z >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))
    ez = np.exp(z[~pos])
    out[~pos] = ez / (1.0 + ez)
    return out


def sigmoid(z):
    return torch.from_numpy(_sigmoid_np(z.detach().numpy().copy())).to(z.dtype)


def fit(X, y, lr=0.1, epochs=1000, l2=0.0):
    dt = np.float64 if X.dtype == torch.float64 else np.float32
    A = np.hstack([X.numpy().astype(dt), np.ones((X.shape[0], 1), dtype=dt)])   # (n, d + 1)
    t = y.numpy().astype(dt)
    mask = np.ones(A.shape[1], dtype=dt)
    mask[-1] = 0.0                                                               # no penalty on the bias
    theta = np.zeros(A.shape[1], dtype=dt)
    for _ in range(epochs):
        g = A.T @ (_sigmoid_np(A @ theta) - t) / A.shape[0] + dt(l2) * mask * theta
        theta = theta - dt(lr) * g
    theta = torch.from_numpy(theta).to(X.dtype)
    return theta[:-1].clone(), theta[-1].clone()


def predict_proba(X, w, b):
    return sigmoid(X @ w + b)


def predict(X, w, b):
    return torch.where(X @ w + b > 0, 1, 0).to(torch.int64)
