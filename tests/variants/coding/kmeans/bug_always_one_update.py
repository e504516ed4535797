# BUG: a do-while loop: updates the centres once before checking max_iter, so max_iter=0 still moves them.
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
    C = init.clone()
    labels = None
    it = 0
    while True:
        new = ((X[:, None, :] - C[None, :, :]) ** 2).sum(-1).argmin(1)
        if labels is not None and torch.equal(new, labels):
            break
        labels = new
        for j in range(C.shape[0]):
            if (labels == j).any():
                C[j] = X[labels == j].mean(0)
        it += 1
        if it >= max(max_iter, 1):
            break
    d2 = ((X[:, None, :] - C[None, :, :]) ** 2).sum(-1)
    best, labels = d2.min(1)
    return C, labels, best.sum()


def kmeans(X, k, max_iter=300, generator=None):
    if generator is None:
        generator = torch.Generator().manual_seed(int(torch.randint(2**62, ())))
    return lloyd(X, kmeans_plusplus(X, k, generator), max_iter)
