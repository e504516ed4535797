# BUG: uses the one-pass covariance (X^T X - n mean mean^T) / (n - 1) and its eigenvectors: it cancels
# catastrophically when the mean is large.
import torch


class PCA:
    def __init__(self, n_components=None):
        self.n_components = n_components

    def fit(self, X):
        n, d = X.shape
        k = min(n, d) if self.n_components is None else self.n_components
        if n < 2 or not 1 <= k <= min(n, d):
            raise ValueError("bad n_components or too few samples")
        self.mean_ = X.mean(dim=0)
        Xc = X - self.mean_
        C = (X.T @ X - n * torch.outer(self.mean_, self.mean_)) / (n - 1)
        evals, evecs = torch.linalg.eigh(C)
        r = min(n, d)
        evals, Vt = evals.flip(0)[:r].clamp_min(0), evecs.flip(1).T[:r]
        S = (evals * (n - 1)).sqrt()
        top = Vt.abs().argmax(dim=1)
        signs = torch.sign(Vt[torch.arange(Vt.shape[0]), top])
        Vt = Vt * signs[:, None]
        var = S ** 2 / (n - 1)
        self.components_ = Vt[:k]
        self.explained_variance_ = var[:k]
        self.explained_variance_ratio_ = var[:k] / var.sum()
        self.singular_values_ = S[:k]
        self.n_components_ = k
        return self

    def transform(self, X):
        return (X - self.mean_) @ self.components_.T

    def inverse_transform(self, Z):
        return Z @ self.components_ + self.mean_
