# CORRECT, written differently: codes built bit by bit with shifts and ORs, candidates collected as a
# Python set, the search ranking by a (-similarity, id) sort key over the candidates.
import math

import torch


def random_hyperplanes(n_tables, n_bits, dim, generator):
    return torch.randn(n_tables, n_bits, dim, generator=generator, dtype=torch.float32)


def hash_codes(X, planes):
    L, B, _ = planes.shape
    codes = torch.zeros(L, X.shape[0], dtype=torch.long)
    for b in range(B):
        side = (X.float() @ planes[:, b, :].T).T > 0               # (L, N)
        codes |= side.long() << b
    return codes


def candidates(db_codes, query_codes):
    found = set()
    for table in range(db_codes.shape[0]):
        found.update(torch.nonzero(db_codes[table] == query_codes[table]).flatten().tolist())
    return torch.tensor(sorted(found), dtype=torch.long)


def lsh_search(X, queries, planes, k):
    db, qc = hash_codes(X, planes), hash_codes(queries, planes)
    norms = X.float().norm(dim=1)
    sims = torch.full((len(queries), k), -math.inf)
    ids = torch.full((len(queries), k), -1, dtype=torch.long)
    for q, query in enumerate(queries.float()):
        scored = []
        for n in candidates(db, qc[:, q]).tolist():
            scored.append((-float(X[n].float() @ query / (norms[n] * query.norm())), n))
        for j, (neg, n) in enumerate(sorted(scored)[:k]):
            sims[q, j], ids[q, j] = -neg, n
    return sims, ids


def candidate_probability(cos_sim, n_bits, n_tables):
    theta = math.acos(min(1.0, max(-1.0, cos_sim)))
    miss_table = 1 - (1 - theta / math.pi) ** n_bits
    return 1 - miss_table ** n_tables
