# CORRECT, written differently: k-means++ by inverse-CDF sampling (torch.rand + searchsorted on the cumulative
# D^2) instead of multinomial; Lloyd with index_add_ / bincount and the expansion distances.
import torch


def kmeans_plusplus(X, k, generator):
    n = X.shape[0]
    chosen = [int(torch.rand((), generator=generator, dtype=torch.float64) * n)]
    d2 = ((X - X[chosen[0]]) ** 2).sum(1).double()
    while len(chosen) < k:
        cdf = torch.cumsum(d2, 0)
        u = torch.rand((), generator=generator, dtype=torch.float64) * cdf[-1]
        j = int(torch.searchsorted(cdf, u.reshape(1), right=True))
        j = min(j, n - 1)
        chosen.append(j)
        d2 = torch.minimum(d2, ((X - X[j]) ** 2).sum(1).double())
    return torch.stack([X[i] for i in chosen])


def _nearest(X, C):
    d2 = (X ** 2).sum(1)[:, None] - 2 * X @ C.T + (C ** 2).sum(1)[None, :]
    d2 = torch.clamp(d2, min=0.0)
    labels = torch.argmin(d2, dim=1)
    return labels, d2.gather(1, labels[:, None]).squeeze(1)


def lloyd(X, init, max_iter=300):
    k = init.shape[0]
    C = init.detach().clone()
    previous = None
    for _ in range(max_iter):
        labels, _ = _nearest(X, C)
        if previous is not None and bool((labels == previous).all()):
            break
        previous = labels
        sums = torch.zeros_like(C).index_add_(0, labels, X)
        counts = torch.bincount(labels, minlength=k)
        C = torch.where(counts[:, None] > 0, sums / counts.clamp(min=1)[:, None].to(X.dtype), C)
    labels, d2 = _nearest(X, C)
    return C, labels, d2.sum()


def kmeans(X, k, max_iter=300, generator=None):
    g = generator if generator is not None else torch.Generator().manual_seed(int(torch.randint(2**62, ())))
    return lloyd(X, kmeans_plusplus(X, k, g), max_iter)
