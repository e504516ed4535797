# CORRECT, written differently: direct differences with torch.linalg.vector_norm (no expansion, so nothing to
# clamp), a numpy stable argsort for the neighbours, and torch.mode for the vote (its smallest tied mode).
import numpy as np
import torch


def pairwise_distances(A, B):
    return torch.linalg.vector_norm(A[:, None, :] - B[None, :, :], dim=-1)     # (m, n)


def kneighbors(X_train, X_query, k):
    n = X_train.shape[0]
    if k < 1 or k > n:
        raise ValueError(f"k={k} not in [1, {n}]")
    D = pairwise_distances(X_query, X_train)
    order = torch.from_numpy(np.argsort(D.numpy(), axis=1, kind="stable")[:, :k].copy()).long()
    return torch.gather(D, 1, order), order


def knn_predict(X_train, y_train, X_query, k, task="classification"):
    if task == "regression":
        _, idx = kneighbors(X_train, X_query, k)
        return y_train[idx].sum(dim=1) / k
    if task == "classification":
        _, idx = kneighbors(X_train, X_query, k)
        return torch.mode(y_train[idx], dim=1).values
    raise ValueError(f"unknown task {task!r}")
