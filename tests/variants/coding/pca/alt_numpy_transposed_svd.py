# CORRECT, written differently: numpy; the SVD of the TRANSPOSED centred data (Xc^T = V S U^T, so its
# left singular vectors are the principal axes), signs fixed with take_along_axis, and the total
# variance taken as the squared Frobenius norm of Xc over n - 1.
import numpy as np
import torch


class PCA:
    def __init__(self, n_components=None):
        self.n_components = n_components

    def fit(self, X):
        A = X.detach().cpu().numpy()
        n, d = A.shape
        r = min(n, d)
        k = r if self.n_components is None else self.n_components
        if n < 2:
            raise ValueError("PCA needs two or more samples")
        if not (isinstance(k, int) and 0 < k <= r):
            raise ValueError(f"n_components={k!r} is not in [1, {r}]")
        mean = A.mean(axis=0)
        Ac = A - mean
        left, s, _ = np.linalg.svd(Ac.T, full_matrices=False)          # (d, r), (r,)
        axes = left.T                                                  # (r, d)
        idx = np.argmax(np.abs(axes), axis=1)[:, None]
        axes = axes * np.sign(np.take_along_axis(axes, idx, axis=1))
        ev = s ** 2 / (n - 1)
        total = float(np.sum(Ac.astype(np.float64) ** 2)) / (n - 1)
        self.mean_ = torch.from_numpy(mean)
        self.components_ = torch.from_numpy(np.ascontiguousarray(axes[:k]))
        self.explained_variance_ = torch.from_numpy(ev[:k].copy())
        self.explained_variance_ratio_ = torch.from_numpy((ev[:k] / total).astype(A.dtype))
        self.singular_values_ = torch.from_numpy(s[:k].copy())
        self.n_components_ = k
        return self

    def transform(self, X):
        return torch.from_numpy((X.detach().cpu().numpy() - self.mean_.numpy()) @ self.components_.numpy().T)

    def inverse_transform(self, Z):
        return torch.from_numpy(Z.detach().cpu().numpy() @ self.components_.numpy() + self.mean_.numpy())
