# BUG: applies the L2 penalty to the bias as well as the weights.
import torch


def sigmoid(z):
    e = torch.exp(-z.abs())
    return torch.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def fit(X, y, lr=0.1, epochs=1000, l2=0.0):
    n, d = X.shape
    y = y.to(X.dtype)
    w, b = torch.zeros(d, dtype=X.dtype), torch.zeros((), dtype=X.dtype)
    for _ in range(epochs):
        r = sigmoid(X @ w + b) - y
        w, b = w - lr * (X.T @ r / n + l2 * w), b - lr * (r.mean() + l2 * b)
    return w, b


def predict_proba(X, w, b):
    return sigmoid(X @ w + b)


def predict(X, w, b):
    return (X @ w + b > 0).long()

