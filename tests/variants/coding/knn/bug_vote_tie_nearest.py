# BUG: Counter.most_common breaks vote ties by the order of first appearance (the nearest neighbour's label), not the smallest label.
import torch


def pairwise_distances(A, B):
    d2 = (A * A).sum(1, keepdim=True) + (B * B).sum(1)[None, :] - 2.0 * (A @ B.T)
    return d2.clamp_min(0.0).sqrt()


def kneighbors(X_train, X_query, k):
    if not 1 <= k <= X_train.shape[0]:
        raise ValueError("bad k")
    dist, idx = torch.sort(pairwise_distances(X_query, X_train), dim=1, stable=True)
    return dist[:, :k], idx[:, :k]


from collections import Counter


def knn_predict(X_train, y_train, X_query, k, task="classification"):
    if task not in ("classification", "regression"):
        raise ValueError("bad task")
    _, idx = kneighbors(X_train, X_query, k)
    votes = y_train[idx]
    if task == "regression":
        return votes.mean(dim=1)
    return torch.tensor([Counter(row).most_common(1)[0][0] for row in votes.tolist()], dtype=torch.int64)
