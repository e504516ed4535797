"""Visible checks: the assignment and inverted lists of six 2-D points on two centroids, a search
with nprobe = 1 (padded) and nprobe = 2 (exact), and recall@k."""
import math

import torch

from mlkata.checks import Fail, check, describe, expect_close, expect_equal, expect_tensor, probe


@probe
def index(sub, X, centroids):
    return {"labels": sub.assign(X, centroids), "lists": sub.build_ivf(X, centroids), "after": [X, centroids]}


@probe
def search(sub, X, centroids, queries, k, nprobe):
    """Build the learner's lists, then search with them."""
    lists = sub.build_ivf(X, centroids)
    return {"out": sub.ivf_search(X, centroids, lists, queries, k, nprobe), "after": [X, centroids, queries]}


@probe
def search_with(sub, X, centroids, lists, queries, k, nprobe):
    """Search with GIVEN lists (the oracle's), so searching is graded apart from building."""
    return {"out": sub.ivf_search(X, centroids, lists, queries, k, nprobe)}


def sq(A, B):
    return ((A.double()[:, None, :] - B.double()[None, :, :]) ** 2).sum(-1)


def lists_oracle(X, centroids):
    labels = [min(range(centroids.shape[0]), key=lambda c: (float(d[c]), c)) for d in sq(X, centroids)]
    return [torch.tensor([n for n, l in enumerate(labels) if l == c], dtype=torch.int64)
            for c in range(centroids.shape[0])]


def search_oracle(X, centroids, queries, k, nprobe):
    lists = lists_oracle(X, centroids)
    dist = torch.full((queries.shape[0], k), math.inf, dtype=torch.float64)
    ids = torch.full((queries.shape[0], k), -1, dtype=torch.int64)
    dq = sq(queries, centroids)
    dx = sq(queries, X)
    for q in range(queries.shape[0]):
        probe_ = sorted(range(centroids.shape[0]), key=lambda c: (float(dq[q, c]), c))[:nprobe]
        cand = sorted(int(n) for c in probe_ for n in lists[c])
        ranked = sorted(cand, key=lambda n: (float(dx[q, n]), n))[:k]
        for j, n in enumerate(ranked):
            dist[q, j], ids[q, j] = dx[q, n], n
    return dist, ids


def expect_lists(got, X, centroids, what):
    want = lists_oracle(X, centroids)
    lists = got["lists"]
    rule = ("build_ivf returns one int64 tensor per centroid: the ids of the rows whose nearest centroid it is "
            "(ties to the lower centroid), increasing")
    if not isinstance(lists, (list, tuple)) or len(lists) != len(want):
        raise Fail(rule, f"{what}: expected {len(want)} lists, your code returned {describe(lists)}")
    for c, (g, w) in enumerate(zip(lists, want)):
        expect_equal(g, w, rule, what=f"list {c} ({what})")


def expect_search(got, X, centroids, queries, k, nprobe, what):
    out = got["out"]
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise Fail("ivf_search returns (distances, ids)", f"{what}: your code returned {describe(out)}")
    dist, ids = out
    Q = queries.shape[0]
    expect_tensor(ids, "ids is an int64 (Q, k) tensor", shape=(Q, k), dtype=torch.int64)
    expect_tensor(dist, "distances is a (Q, k) tensor", shape=(Q, k))
    want_dist, want_ids = search_oracle(X, centroids, queries, k, nprobe)
    expect_equal(ids, want_ids, "the candidates are the ids in the lists of the nprobe nearest centroids; ranked by "
                 "squared distance, ties to the lower id; -1 where fewer than k", what=f"ids ({what})")
    expect_close(dist, want_dist.to(dist.dtype), "distances are the exact SQUARED L2 distances of the returned ids "
                 "(+inf as padding)", rtol=1e-5, atol=1e-6, what=f"distances ({what})")


X6 = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [10.0, 10.0], [11.0, 10.0], [4.9, 5.0]])
C2 = torch.tensor([[0.0, 0.0], [10.0, 10.0]])


@check("assign and build_ivf: six points, two centroids")
def lists_small(run):
    got = run(index, X6, C2)
    expect_equal(got["labels"], torch.tensor([0, 0, 0, 1, 1, 0]), "each row goes to its nearest centroid",
                 what="assign")
    expect_lists(got, X6, C2, "6 points")


@check("nprobe = 1 searches one list (padded with +inf / -1 when it is short)")
def search_one_probe(run):
    q = torch.tensor([[9.0, 9.0]])
    expect_search(run(search, X6, C2, q, 3, 1), X6, C2, q, 3, 1, "query (9, 9), k = 3, nprobe = 1")


@check("nprobe = C searches every list: the exact k nearest neighbours")
def search_all_probes(run):
    q = torch.tensor([[6.0, 6.0], [0.5, 0.5]])
    expect_search(run(search, X6, C2, q, 3, 2), X6, C2, q, 3, 2, "2 queries, k = 3, nprobe = 2")


@check("recall_at_k: the share of the true neighbours found (-1 never counts)")
def recall_small(run):
    ids = torch.tensor([[3, 1, 2], [5, -1, -1]])
    true = torch.tensor([[1, 2, 3], [5, 0, 2]])
    expect_close(run("recall_at_k", ids, true), (1 + 1 / 3) / 2, "recall@k = mean over queries of |found ∩ true| "
                 "/ k", rtol=1e-9, what="recall_at_k")
