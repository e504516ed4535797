"""Hidden graders of systems/ivf_search: assignment and inverted lists on random data (empty lists,
ties to the lower centroid); searches against a brute-force oracle over the probed lists for
several (C, nprobe, k), with the learner's lists and with given ones; padding; nprobe = C equals
exact k-NN; recall against brute force rising with nprobe; recall_at_k on crafted rows; float64;
untouched inputs.  tests/test_twins_systems_ivf_search.py compares with faiss.IndexIVFFlat."""
import torch

from mlkata.checks import check, expect, expect_close, expect_equal, visible_module

V = visible_module("systems/ivf_search")


def clustered(seed, N, D, C, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    centres = torch.randn(C, D, generator=g) * 4
    X = centres[torch.randint(0, C, (N,), generator=g)] + torch.randn(N, D, generator=g)
    queries = centres[torch.randint(0, C, (20,), generator=g)] + torch.randn(20, D, generator=g) * 1.5
    centroids = centres + 0.3 * torch.randn(C, D, generator=g)
    return X.to(dtype), centroids.to(dtype), queries.to(dtype)


@check("assign and build_ivf on random data (a far-away centroid keeps an empty list)", points=2)
def lists_random(run):
    for i, (N, D, C) in enumerate(((200, 8, 10), (50, 3, 4), (120, 16, 7))):
        X, centroids, _ = clustered(i, N, D, C)
        centroids = torch.cat([centroids, torch.full((1, D), 100.0)])          # nobody's nearest
        got = run(V.index, X, centroids)
        expect_equal(got["labels"], V.sq(X, centroids).argmin(1), "assign: the nearest centroid (squared L2), ties to "
                     "the lower index", what=f"assign (N={N}, D={D}, C={C + 1})")
        V.expect_lists(got, X, centroids, f"N={N}, D={D}, C={C + 1}")


@check("ties: a row equidistant from two centroids joins the lower one")
def ties(run):
    X = torch.tensor([[0.0, 0.0], [2.0, 0.0], [1.0, 0.0], [1.0, 5.0]])
    centroids = torch.tensor([[1.0, 1.0], [1.0, -1.0]])                       # rows 0-2 are equidistant
    got = run(V.index, X, centroids)
    expect_equal(got["labels"], torch.tensor([0, 0, 0, 0]), "a tie goes to the lower centroid index", what="assign")
    V.expect_lists(got, X, centroids, "equidistant rows")


@check("ivf_search on random data for several (C, nprobe, k), with your own lists", points=2)
def search_random(run):
    for i, (N, D, C, k, nprobe) in enumerate(((300, 8, 10, 5, 1), (300, 8, 10, 5, 3), (150, 4, 6, 10, 2),
                                              (80, 16, 8, 3, 8))):
        X, centroids, queries = clustered(10 + i, N, D, C)
        V.expect_search(run(V.search, X, centroids, queries, k, nprobe), X, centroids, queries, k, nprobe,
                        f"N={N}, C={C}, k={k}, nprobe={nprobe}")


@check("ivf_search with given inverted lists, and padding when the probed lists hold fewer than k vectors", points=2)
def search_given_lists(run):
    X, centroids, queries = clustered(20, 60, 4, 12)
    lists = V.lists_oracle(X, centroids)
    for k, nprobe in ((3, 2), (20, 1), (60, 12)):
        V.expect_search(run(V.search_with, X, centroids, lists, queries, k, nprobe), X, centroids, queries, k, nprobe,
                        f"given lists, k={k}, nprobe={nprobe}")


@check("nprobe = C is exact k-NN; recall@10 against brute force never drops as nprobe grows")
def exact_and_recall(run):
    X, centroids, queries = clustered(30, 400, 8, 16)
    exact = V.sq(queries, X).topk(10, dim=1, largest=False).indices
    recalls = []
    for nprobe in (1, 2, 4, 16):
        got = run(V.search, X, centroids, queries, 10, nprobe)
        V.expect_search(got, X, centroids, queries, 10, nprobe, f"nprobe={nprobe}")
        ids = got["out"][1]
        recalls.append(sum(len(set(ids[q].tolist()) & set(exact[q].tolist())) for q in range(20)) / 200)
    expect_equal(recalls[-1], 1.0, "visiting every list is exact search", what="recall@10 with nprobe = C")
    expect(recalls == sorted(recalls), "probing more lists can only find more of the true neighbours",
           f"recall@10 for nprobe 1, 2, 4, 16: {recalls}")


@check("recall_at_k on crafted rows: duplicates count once, -1 never counts", points=2)
def recall_crafted(run):
    cases = ((torch.tensor([[1, 2, 3]]), torch.tensor([[3, 2, 1]]), 1.0),
             (torch.tensor([[1, 1, 1]]), torch.tensor([[1, 2, 3]]), 1 / 3),
             (torch.tensor([[-1, -1, 4]]), torch.tensor([[-1, 4, 5]]), 1 / 3),
             (torch.tensor([[0, 1], [2, 3], [4, 5]]), torch.tensor([[1, 0], [3, 9], [8, 9]]), (1 + 0.5 + 0) / 3))
    for ids, true, want in cases:
        expect_close(run("recall_at_k", ids, true), want, "recall@k = mean over queries of (the number of true "
                     "neighbours found in the row) / k; -1 is padding and never matches", rtol=1e-9,
                     what=f"recall_at_k({ids.tolist()}, {true.tolist()})")
    X, centroids, queries = clustered(40, 200, 6, 8)
    exact = V.sq(queries, X).topk(5, dim=1, largest=False).indices
    ids = V.search_oracle(X, centroids, queries, 5, 1)[1]
    want = sum(len(set(ids[q].tolist()) & set(exact[q].tolist())) for q in range(20)) / 100
    expect_close(run("recall_at_k", ids, exact), want, "recall@k of an IVF search against brute force", rtol=1e-9,
                 what="recall_at_k (nprobe = 1, k = 5)")


@check("float64 data: float64 distances; no input is modified")
def float64_inputs(run):
    X, centroids, queries = clustered(50, 100, 5, 6, dtype=torch.float64)
    got = run(V.search, X, centroids, queries, 4, 2)
    V.expect_search(got, X, centroids, queries, 4, 2, "float64")
    expect(got["out"][0].dtype == torch.float64, "distances have X's dtype", f"your dtype: {got['out'][0].dtype}")
    for name, before, after in zip(("X", "centroids", "queries"), (X, centroids, queries), got["after"]):
        expect_equal(after, before, "ivf_search does not modify its inputs", what=f"{name} after the call")
