# CORRECT, written differently: the lists built by a stable argsort of the labels and split by
# bincount, the probe order from topk on negated distances with an index tie-break, and the k
# best candidates chosen by lexicographic (distance, id) keys in Python.
import math

import torch


def squared_distances(A, B):
    return ((A[:, None, :] - B[None, :, :]) ** 2).sum(-1)


def assign(X, centroids):
    d = squared_distances(X, centroids)
    best = d.min(dim=1, keepdim=True).values
    first = (d == best).to(torch.int64).argmax(dim=1)          # first index attaining the minimum
    return first


def build_ivf(X, centroids):
    labels = assign(X, centroids)
    order = torch.argsort(labels, stable=True)
    sizes = torch.bincount(labels, minlength=centroids.shape[0]).tolist()
    return list(torch.split(order, sizes))


def ivf_search(X, centroids, lists, queries, k, nprobe):
    out_d, out_i = [], []
    dq = squared_distances(queries, centroids)
    for q in range(len(queries)):
        ranked_c = sorted(range(len(centroids)), key=lambda c: (float(dq[q, c]), c))[:nprobe]
        pool = sorted(int(i) for c in ranked_c for i in lists[c])
        d = squared_distances(queries[q:q + 1], X[pool])[0] if pool else torch.zeros(0, dtype=X.dtype)
        best = sorted(zip(d.tolist(), pool))[:k]
        out_d.append([v for v, _ in best] + [math.inf] * (k - len(best)))
        out_i.append([i for _, i in best] + [-1] * (k - len(best)))
    return torch.tensor(out_d, dtype=X.dtype), torch.tensor(out_i, dtype=torch.int64)


def recall_at_k(ids, true_ids):
    total = 0.0
    for got, want in zip(ids.tolist(), true_ids.tolist()):
        total += len({w for w in want if w >= 0} & set(got)) / len(want)
    return total / len(ids)
