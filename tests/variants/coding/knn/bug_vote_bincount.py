# BUG: votes with bincount on the raw labels: fine for 0..C-1, but negative labels (-1 / 1) raise.
import torch


def pairwise_distances(A, B):
    d2 = (A * A).sum(1, keepdim=True) + (B * B).sum(1)[None, :] - 2.0 * (A @ B.T)
    return d2.clamp_min(0.0).sqrt()


def kneighbors(X_train, X_query, k):
    if not 1 <= k <= X_train.shape[0]:
        raise ValueError("bad k")
    dist, idx = torch.sort(pairwise_distances(X_query, X_train), dim=1, stable=True)
    return dist[:, :k], idx[:, :k]


def knn_predict(X_train, y_train, X_query, k, task="classification"):
    if task not in ("classification", "regression"):
        raise ValueError("bad task")
    _, idx = kneighbors(X_train, X_query, k)
    votes = y_train[idx]
    if task == "regression":
        return votes.mean(dim=1)
    return torch.stack([torch.bincount(row).argmax() for row in votes])
