# BUG: k-means++ samples proportionally to the distance D, not to D squared.
import torch


def kmeans_plusplus(X, k, generator):
    n = X.shape[0]
    idx = [int(torch.randint(n, (1,), generator=generator))]
    d = ((X - X[idx[0]]) ** 2).sum(1).sqrt()
    for _ in range(1, k):
        j = int(torch.multinomial(d, 1, generator=generator))
        idx.append(j)
        d = torch.minimum(d, ((X - X[j]) ** 2).sum(1).sqrt())
    return X[idx].clone()


def _assign(X, C):
    d2 = ((X[:, None, :] - C[None, :, :]) ** 2).sum(-1)
    best, labels = d2.min(1)
    return labels, best


def lloyd(X, init, max_iter=300):
    C = init.clone()
    labels = None
    for _ in range(max_iter):
        new = _assign(X, C)[0]
        if labels is not None and torch.equal(new, labels):
            break
        labels = new
        for j in range(C.shape[0]):
            members = labels == j
            if members.any():
                C[j] = X[members].mean(0)
    labels, d2 = _assign(X, C)
    return C, labels, d2.sum()


def kmeans(X, k, max_iter=300, generator=None):
    if generator is None:
        generator = torch.Generator().manual_seed(int(torch.randint(2**62, ())))
    return lloyd(X, kmeans_plusplus(X, k, generator), max_iter)
