"""Locality-sensitive hashing for cosine similarity: random hyperplanes, bands of bits, candidates.

Exact nearest-neighbour search compares the query with every stored vector.  LSH (Charikar's
SimHash, 2002) hashes vectors so that similar ones collide: a random hyperplane through the
origin, normal ``h ~ N(0, I)``, puts ``x`` on its positive side (bit 1) or not (bit 0), and two
vectors at angle ``theta`` get the same bit with probability ``1 - theta / pi``.

* A *table* concatenates ``B`` such bits into one integer code (bit ``b`` worth ``2^b``): only
  vectors that agree on all ``B`` bits share a bucket, probability ``p^B`` with
  ``p = 1 - theta / pi`` -- more bits, fewer false candidates.
* ``L`` independent tables are OR-ed: a stored vector is a *candidate* when it shares the
  query's bucket in at least one table, probability ``1 - (1 - p^B)^L`` -- more tables, fewer
  missed neighbours.  Together they give the S-shaped curve that makes LSH work.

Search then ranks only the candidates by exact cosine similarity.  The faiss twin
(``faiss.IndexLSH`` without rotation, fed the projections) computes the same codes;
tests/test_twins_systems_lsh_search.py also measures recall against brute force.
"""
import math
from typing import Tuple

import torch


def random_hyperplanes(n_tables: int, n_bits: int, dim: int, generator: torch.Generator) -> torch.Tensor:
    """The normals of every table's hyperplanes: ONE draw, ``torch.randn((n_tables, n_bits, dim),
    generator=generator)``, float32, ``(L, B, D)``."""
    ### BEGIN SOLUTION
    return torch.randn((n_tables, n_bits, dim), generator=generator)
    ### END SOLUTION


def hash_codes(X: torch.Tensor, planes: torch.Tensor) -> torch.Tensor:
    """Bucket codes of the rows of ``X (N, D)`` in every table: int64 ``(L, N)``,
    ``code[l, n] = sum_b [X[n] . planes[l, b] > 0] * 2^b`` (a dot product of exactly 0 gives bit 0).
    ``B <= 62``."""
    ### BEGIN SOLUTION
    bits = torch.einsum("nd,lbd->lnb", X.to(planes.dtype), planes) > 0    # (L, N, B)
    weights = 2 ** torch.arange(planes.shape[1], dtype=torch.int64)       # (B,) 1, 2, 4, ...
    return (bits.to(torch.int64) * weights).sum(dim=-1)                    # (L, N)
    ### END SOLUTION


def candidates(db_codes: torch.Tensor, query_codes: torch.Tensor) -> torch.Tensor:
    """Stored rows that share the query's bucket in AT LEAST ONE table.

    Args:
        db_codes: ``(L, N)`` codes of the stored rows; query_codes: ``(L,)`` codes of one query.

    Returns:
        int64 row indices, increasing, without duplicates (possibly empty).
    """
    ### BEGIN SOLUTION
    hit = (db_codes == query_codes[:, None]).any(dim=0)                    # (N,) collides somewhere
    return torch.nonzero(hit).flatten()
    ### END SOLUTION


def lsh_search(X: torch.Tensor, queries: torch.Tensor, planes: torch.Tensor, k: int
               ) -> Tuple[torch.Tensor, torch.Tensor]:
    """Approximate k-NN by cosine similarity: for each query, rank its candidates by exact cosine
    similarity, largest first, ties to the lower row index.

    Args:
        X: ``(N, D)`` stored rows (non-zero); queries: ``(Q, D)`` (non-zero); planes: ``(L, B, D)``;
            k: ``>= 1``.

    Returns:
        ``(sims (Q, k) float32, ids (Q, k) int64)``; a query with fewer than ``k`` candidates is padded
        with similarity ``-inf`` and id ``-1``.
    """
    ### BEGIN SOLUTION
    db_codes, q_codes = hash_codes(X, planes), hash_codes(queries, planes)   # (L, N), (L, Q)
    Xn = torch.nn.functional.normalize(X.float(), dim=1)
    Qn = torch.nn.functional.normalize(queries.float(), dim=1)
    sims = torch.full((queries.shape[0], k), -math.inf)
    ids = torch.full((queries.shape[0], k), -1, dtype=torch.int64)
    for q in range(queries.shape[0]):
        cand = candidates(db_codes, q_codes[:, q])                           # increasing row ids
        s = Xn[cand] @ Qn[q]                                                 # (C,) exact cosine similarities
        order = torch.argsort(-s, stable=True)[:k]                           # stable: ties keep the lower id
        sims[q, :order.numel()] = s[order]
        ids[q, :order.numel()] = cand[order]
    return sims, ids
    ### END SOLUTION


def candidate_probability(cos_sim: float, n_bits: int, n_tables: int) -> float:
    """Probability that a stored vector at cosine similarity ``cos_sim`` from the query becomes a
    candidate: ``1 - (1 - p^B)^L`` with ``p = 1 - arccos(cos_sim) / pi``."""
    ### BEGIN SOLUTION
    p = 1.0 - math.acos(max(-1.0, min(1.0, cos_sim))) / math.pi
    return 1.0 - (1.0 - p ** n_bits) ** n_tables
    ### END SOLUTION
