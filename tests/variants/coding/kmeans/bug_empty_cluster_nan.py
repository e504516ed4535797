# BUG: divides every cluster's sum by its count, so an empty cluster's centre becomes nan (0 / 0).
import torch


def kmeans_plusplus(X, k, generator):
    n = X.shape[0]
    idx = [int(torch.randint(n, (1,), generator=generator))]
    d2 = ((X - X[idx[0]]) ** 2).sum(1)
    for _ in range(1, k):
        j = int(torch.multinomial(d2, 1, generator=generator))
        idx.append(j)
        d2 = torch.minimum(d2, ((X - X[j]) ** 2).sum(1))
    return X[idx].clone()


def lloyd(X, init, max_iter=300):
    k = init.shape[0]
    C = init.clone()
    labels = None
    for _ in range(max_iter):
        d2 = ((X[:, None, :] - C[None, :, :]) ** 2).sum(-1)
        new = d2.argmin(1)
        if labels is not None and torch.equal(new, labels):
            break
        labels = new
        onehot = torch.nn.functional.one_hot(labels, k).to(X.dtype)
        C = (onehot.T @ X) / onehot.sum(0)[:, None]
    d2 = ((X[:, None, :] - C[None, :, :]) ** 2).sum(-1)
    best, labels = d2.min(1)
    return C, labels, best.sum()


def kmeans(X, k, max_iter=300, generator=None):
    if generator is None:
        generator = torch.Generator().manual_seed(int(torch.randint(2**62, ())))
    return lloyd(X, kmeans_plusplus(X, k, generator), max_iter)
