# BUG: updates w first and then computes the bias gradient at the NEW w (not a simultaneous gradient step).
import torch


def sigmoid(z):
    e = torch.exp(-z.abs())
    return torch.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def fit(X, y, lr=0.1, epochs=1000, l2=0.0):
    n, d = X.shape
    y = y.to(X.dtype)
    w, b = torch.zeros(d, dtype=X.dtype), torch.zeros((), dtype=X.dtype)
    for _ in range(epochs):
        p = sigmoid(X @ w + b)
        w = w - lr * (X.T @ (p - y) / n + l2 * w)
        p = sigmoid(X @ w + b)
        b = b - lr * (p - y).mean()
    return w, b


def predict_proba(X, w, b):
    return sigmoid(X @ w + b)


def predict(X, w, b):
    return (X @ w + b > 0).long()

