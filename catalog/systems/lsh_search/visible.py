"""Visible checks: codes of three 2-D points under two hand-made tables, candidates of a query,
a small search with padding, and the candidate probability at 90 degrees."""
import math

import torch

from mlkata.checks import Fail, check, describe, expect_close, expect_equal, expect_tensor, probe


@probe
def search(sub, X, queries, planes, k):
    return {"out": sub.lsh_search(X, queries, planes, k), "after": [X, queries, planes]}


def codes_oracle(X, planes):
    L, B, _ = planes.shape
    out = torch.zeros(L, X.shape[0], dtype=torch.int64)
    for l in range(L):
        for b in range(B):
            out[l] += (X.double() @ planes[l, b].double() > 0).long() << b
    return out


def search_oracle(X, queries, planes, k):
    """(sims, ids) by brute force over the candidates of each query, float64 cosines."""
    db, qc = codes_oracle(X, planes), codes_oracle(queries, planes)
    Xn = X.double() / X.double().norm(dim=1, keepdim=True)
    sims = torch.full((queries.shape[0], k), -math.inf, dtype=torch.float64)
    ids = torch.full((queries.shape[0], k), -1, dtype=torch.int64)
    for q in range(queries.shape[0]):
        cand = [n for n in range(X.shape[0]) if any(int(db[l, n]) == int(qc[l, q]) for l in range(db.shape[0]))]
        qn = queries[q].double() / queries[q].double().norm()
        ranked = sorted(cand, key=lambda n: (-float(Xn[n] @ qn), n))[:k]
        for j, n in enumerate(ranked):
            sims[q, j], ids[q, j] = float(Xn[n] @ qn), n
    return sims, ids


def expect_search(got, X, queries, planes, k, what):
    out = got["out"]
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise Fail("lsh_search returns (sims, ids)", f"{what}: your code returned {describe(out)}")
    sims, ids = out
    Q = queries.shape[0]
    expect_tensor(ids, "ids is an int64 (Q, k) tensor", shape=(Q, k), dtype=torch.int64)
    expect_tensor(sims, "sims is a (Q, k) tensor", shape=(Q, k))
    want_sims, want_ids = search_oracle(X, queries, planes, k)
    expect_equal(ids, want_ids, "each query's candidates (rows sharing its bucket in at least one table), ranked by "
                 "cosine similarity, largest first, ties to the lower row; -1 where fewer than k", what=f"ids ({what})")
    expect_close(sims, want_sims.float(), "sims are the exact cosine similarities of the returned rows (-inf as "
                 "padding)", rtol=1e-5, atol=1e-6, what=f"sims ({what})")


# two tables of two bits in 2-D: planes along the axes and the diagonals
PLANES = torch.tensor([[[1.0, 0.0], [0.0, 1.0]], [[1.0, 1.0], [1.0, -1.0]]])
POINTS = torch.tensor([[1.0, 2.0], [-1.0, 0.5], [3.0, -1.0]])


@check("hash_codes: bit b of table l is [x . plane[l, b] > 0], worth 2^b")
def codes_small(run):
    expect_equal(run("hash_codes", POINTS, PLANES), codes_oracle(POINTS, PLANES), "code = sum_b [x . h_b > 0] 2^b "
                 "per table (int64, shape (L, N))", what="codes")


@check("candidates: rows sharing the query's bucket in at least one table, in increasing order")
def candidates_small(run):
    db = torch.tensor([[0, 1, 3, 1, 2], [5, 5, 6, 7, 6]])
    expect_equal(run("candidates", db, torch.tensor([1, 6])), torch.tensor([1, 2, 3, 4]), "a row is a candidate if "
                 "its code equals the query's in ANY table", what="candidates of codes (1, 6)")


@check("lsh_search on 5 stored points: candidates ranked by cosine, padded with -1 / -inf")
def search_small(run):
    X = torch.tensor([[1.0, 0.1], [2.0, 0.5], [-1.0, -1.0], [0.5, -2.0], [1.0, 1.0]])
    queries = torch.tensor([[1.0, 0.2], [-1.0, -0.5]])
    expect_search(run(search, X, queries, PLANES, 3), X, queries, PLANES, 3, "5 points, 2 queries, k = 3")


@check("candidate_probability at 90 degrees with 2 bits and 3 tables: 1 - (1 - 0.5^2)^3")
def probability_small(run):
    expect_close(run("candidate_probability", 0.0, 2, 3), 1 - 0.75 ** 3, "p = 1 - theta / pi per bit; p^B per table; "
                 "1 - (1 - p^B)^L over L tables", rtol=1e-9, what="candidate_probability(cos = 0, B = 2, L = 3)")
