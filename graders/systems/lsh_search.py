"""Hidden graders of systems/lsh_search: the planes from one generator draw; codes on random data
(and a dot product of exactly 0); candidates; searches against brute force over the candidates
(duplicate rows tie to the lower id, padding); zero bits = exact search; the candidate probability
formula, and the candidate rate under 2,000 independent hash families drawn and hashed by the
learner's code against that formula (the S-curve)."""
import math

import torch

from mlkata.checks import Fail, check, describe, expect_close, expect_equal, expect_rate, probe, \
    visible_module

V = visible_module("systems/lsh_search")
N_FAMILIES = 2000


@probe
def planes_probe(sub, L, B, D, seed):
    return sub.random_hyperplanes(L, B, D, torch.Generator().manual_seed(seed))


@probe
def family_codes(sub, x, y, L, B, families, seed):
    """The codes of x and y under ``families * L`` tables drawn with the learner's code in one call:
    ``families`` independent hash families of L tables each."""
    planes = sub.random_hyperplanes(families * L, B, x.shape[0], torch.Generator().manual_seed(seed))
    return sub.hash_codes(torch.stack([x, y]), planes)


def cloud(seed, N, D):
    return torch.randn(N, D, generator=torch.Generator().manual_seed(seed))


def pair_at(cos, D=3):
    """Two unit vectors at cosine similarity ``cos``."""
    theta = math.acos(cos)
    return torch.tensor([1.0] + [0.0] * (D - 1)), torch.tensor([math.cos(theta), math.sin(theta)] + [0.0] * (D - 2))


@check("random_hyperplanes is one draw: torch.randn((L, B, D), generator=generator), float32")
def planes_draw(run):
    for L, B, D, seed in ((4, 8, 16, 0), (1, 3, 2, 5)):
        got = run(planes_probe, L, B, D, seed)
        want = torch.randn((L, B, D), generator=torch.Generator().manual_seed(seed))
        # the same draws; their last bits may differ between processes (vectorised normal sampling)
        expect_close(got, want, "draw every normal in ONE call torch.randn((n_tables, n_bits, dim), "
                     "generator=generator)", rtol=1e-5, atol=1e-6, check_dtype=True, what=f"planes (L={L}, B={B}, "
                     f"D={D})")


@check("hash_codes on random data (several L, B, D) and for a dot product of exactly 0", points=2)
def codes_random(run):
    for i, (N, D, L, B) in enumerate(((50, 8, 3, 6), (20, 32, 1, 16), (10, 3, 5, 1))):
        X = cloud(i, N, D)
        planes = torch.randn((L, B, D), generator=torch.Generator().manual_seed(10 + i))
        expect_equal(run("hash_codes", X, planes), V.codes_oracle(X, planes), "code[l, n] = sum_b [X[n] . "
                     "planes[l, b] > 0] 2^b (int64, (L, N))", what=f"codes (N={N}, D={D}, L={L}, B={B})")
    planes = torch.tensor([[[1.0, 0.0], [0.0, 1.0]]])
    X = torch.tensor([[0.0, 1.0], [1.0, 0.0], [-1.0, 0.0]])          # each on one plane exactly
    expect_equal(run("hash_codes", X, planes), V.codes_oracle(X, planes), "a dot product of exactly 0 gives bit 0 "
                 "(strictly positive side only)", what="codes of points on the planes")


@check("candidates on random codes, and an empty result")
def candidates_random(run):
    g = torch.Generator().manual_seed(20)
    db = torch.randint(0, 4, (3, 40), generator=g)
    for q in (torch.tensor([0, 1, 2]), torch.tensor([3, 3, 3])):
        want = torch.nonzero((db == q[:, None]).any(0)).flatten()
        expect_equal(run("candidates", db, q), want, "rows whose code equals the query's in at least one table, "
                     "increasing, no duplicates", what=f"candidates of {q.tolist()}")
    expect_equal(run("candidates", db, torch.tensor([9, 9, 9])), torch.zeros(0, dtype=torch.int64),
                 "no shared bucket: an empty int64 tensor", what="candidates of codes (9, 9, 9)")


@check("lsh_search on random data against brute force over the candidates (padding included)", points=2)
def search_random(run):
    for i, (N, D, L, B, k) in enumerate(((200, 16, 4, 6, 5), (60, 8, 2, 10, 4), (100, 4, 8, 3, 10))):
        X, queries = cloud(30 + i, N, D), cloud(40 + i, 6, D)
        planes = torch.randn((L, B, D), generator=torch.Generator().manual_seed(50 + i))
        V.expect_search(run(V.search, X, queries, planes, k), X, queries, planes, k, f"N={N}, D={D}, L={L}, B={B}, "
                        f"k={k}")


@check("duplicate stored rows tie: the lower row index comes first")
def ties(run):
    X = cloud(60, 12, 4)
    X[7] = X[2]
    X[9] = 2 * X[2]                                                   # same direction: cosine equal too
    queries = X[2:3] + 0.01
    planes = torch.randn((3, 2, 4), generator=torch.Generator().manual_seed(61))
    V.expect_search(run(V.search, X, queries, planes, 4), X, queries, planes, 4, "rows 2, 7, 9 point the same way")


@check("with 0 bits every stored row is a candidate: the search is exact (brute-force cosine k-NN)")
def zero_bits_exact(run):
    X, queries = cloud(70, 80, 6), cloud(71, 5, 6)
    planes = torch.zeros((1, 0, 6))
    got = run(V.search, X, queries, planes, 7)
    V.expect_search(got, X, queries, planes, 7, "B = 0")
    sims = torch.nn.functional.normalize(queries, dim=1) @ torch.nn.functional.normalize(X, dim=1).T
    expect_equal(got["out"][1], sims.topk(7, dim=1).indices, "B = 0: one bucket holds everything, so LSH returns the "
                 "exact neighbours", what="ids (B = 0)")


@check("candidate_probability = 1 - (1 - p^B)^L with p = 1 - arccos(cos) / pi, for several (cos, B, L)")
def probability_formula(run):
    for cos, B, L in ((0.9, 8, 4), (0.5, 4, 10), (-0.3, 3, 2), (1.0, 16, 1), (0.0, 1, 1)):
        p = 1 - math.acos(cos) / math.pi
        expect_close(run("candidate_probability", cos, B, L), 1 - (1 - p ** B) ** L, "p = 1 - theta / pi per bit, "
                     "p^B for one table, 1 - (1 - p^B)^L for any of L tables", rtol=1e-9, atol=1e-12,
                     what=f"candidate_probability(cos={cos}, B={B}, L={L})")


@check(f"your pipeline's candidate rate over {N_FAMILIES} random hash families matches 1 - (1 - p^B)^L", points=2)
def s_curve(run):
    for cos, B, L in ((0.5, 3, 2), (0.9, 8, 3)):
        x, y = pair_at(cos)
        codes = run(family_codes, x, y, L, B, N_FAMILIES, 1000 + B)
        if not isinstance(codes, torch.Tensor) or tuple(codes.shape) != (N_FAMILIES * L, 2):
            raise Fail("hash_codes returns an int64 (L, N) tensor", f"codes of 2 points under {N_FAMILIES * L} tables: "
                       f"your code produced {describe(codes)}")
        same = (codes[:, 0] == codes[:, 1]).reshape(N_FAMILIES, L)          # family, table
        hits = int(same.any(dim=1).sum())                                   # a candidate in at least one table
        p = 1 - math.acos(cos) / math.pi
        expect_rate(hits, N_FAMILIES, 1 - (1 - p ** B) ** L, "a pair at angle theta agrees on one random hyperplane "
                    "with probability 1 - theta / pi; on all B bits of a table with p^B; in at least one of L tables "
                    "with 1 - (1 - p^B)^L", what=f"candidate rate at cos = {cos}, B = {B}, L = {L}")
