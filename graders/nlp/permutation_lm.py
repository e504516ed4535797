"""Hidden graders of nlp/permutation_lm: ranks, both streams and Hugging Face's perm_mask /
target_mapping against position-by-position oracles on random orders and target sets, dtypes and
shapes, the leak-freedom and autoregressive properties the masks exist for, and the GPT special
case (the identity order).  tests/test_twins_nlp_permutation_lm.py runs transformers'
DataCollatorForPermutationLanguageModeling and a tiny XLNetLMHeadModel against the reference."""
import torch

from mlkata.checks import Fail, check, expect, expect_equal, expect_tensor, visible_module

V = visible_module("nlp/permutation_lm")


def oracle_rank(order):
    rank = [0] * len(order)
    for t, p in enumerate(order.tolist()):
        rank[p] = t
    return rank


def oracle_streams(order):
    r = oracle_rank(order)
    T = len(r)
    return (torch.tensor([[r[j] <= r[i] for j in range(T)] for i in range(T)]),
            torch.tensor([[r[j] < r[i] for j in range(T)] for i in range(T)]))


def oracle_hf(order, is_target):
    r = [rk if t else -1 for rk, t in zip(oracle_rank(order), is_target.tolist())]
    T = len(r)
    perm = torch.tensor([[float(r[i] <= r[j] and bool(is_target[j])) for j in range(T)] for i in range(T)])
    targets = [p for p in range(T) if is_target[p]]
    mapping = torch.zeros(len(targets), T)
    for k, p in enumerate(targets):
        mapping[k, p] = 1.0
    return perm, mapping


def random_case(seed, T):
    g = torch.Generator().manual_seed(seed)
    order = torch.randperm(T, generator=g)
    is_target = torch.rand(T, generator=g) < 0.4
    is_target[int(torch.randint(T, (), generator=g))] = True
    return order, is_target


@check("factorization_ranks inverts random permutations (int64, shape (T,))")
def ranks_random(run):
    for seed, T in [(0, 1), (1, 7), (2, 16), (3, 33)]:
        order, _ = random_case(seed, T)
        got = expect_tensor(run(V.ranks, order), "factorization_ranks returns an int64 (T,) tensor", shape=(T,),
                            dtype=torch.int64)
        expect_equal(got, torch.tensor(oracle_rank(order)), "rank[order[t]] = t (the inverse permutation, not the "
                     "order itself)", what=f"factorization_ranks (T={T}, seed {seed})")


@check("two_stream_masks agree with the rank comparisons on random orders", points=2)
def streams_random(run):
    for seed, T in [(10, 5), (11, 12), (12, 20)]:
        order, _ = random_case(seed, T)
        content, query = V.pair(run(V.streams, order), "two_stream_masks")
        want_c, want_q = oracle_streams(order)
        expect_tensor(content, "the masks are bool (T, T) tensors", shape=(T, T), dtype=torch.bool)
        expect_tensor(query, "the masks are bool (T, T) tensors", shape=(T, T), dtype=torch.bool)
        expect_equal(content, want_c, "content[i, j] = rank[j] <= rank[i] (row attends to column)",
                     what=f"content mask (T={T}, seed {seed})")
        expect_equal(query, want_q, "query[i, j] = rank[j] < rank[i]", what=f"query mask (T={T}, seed {seed})")


@check("the identity order gives GPT's causal masks (query: strictly lower triangle, content: with the diagonal)")
def identity_is_causal(run):
    T = 6
    content, query = V.pair(run(V.streams, torch.arange(T)), "two_stream_masks")
    lower = torch.ones(T, T).tril().bool()
    expect_equal(content, lower, "with order 0, 1, ..., T-1 the content stream is the causal mask",
                 what="content mask (identity order)")
    expect_equal(query, lower & ~torch.eye(T, dtype=torch.bool), "... and the query stream the causal mask without "
                 "the diagonal", what="query mask (identity order)")


@check("xlnet_perm_mask and target_mapping agree with Hugging Face's formula on random orders and targets", points=2)
def hf_random(run):
    for seed, T in [(20, 4), (21, 10), (22, 16), (23, 24)]:
        order, is_target = random_case(seed, T)
        perm_mask, mapping = V.pair(run(V.hf_masks, order, is_target), "xlnet_perm_mask")
        want_p, want_m = oracle_hf(order, is_target)
        expect_tensor(perm_mask, "perm_mask is float32 (T, T)", shape=(T, T), dtype=torch.float32)
        expect_equal(perm_mask, want_p, "non-targets get rank -1; perm_mask[i, j] = 1.0 iff rank[i] <= rank[j] and "
                     "j is a target", what=f"perm_mask (T={T}, seed {seed}, targets {is_target.int().tolist()})")
        expect_tensor(mapping, "target_mapping is float32 (K, T)", shape=tuple(want_m.shape), dtype=torch.float32)
        expect_equal(mapping, want_m, "row k is one-hot at the k-th target, targets in position order",
                     what=f"target_mapping (seed {seed})")


@check("perm_mask is leak-free and autoregressive: no target sees itself, each target sees exactly the earlier targets")
def properties(run):
    order, is_target = random_case(30, 20)
    perm_mask, _ = V.pair(run(V.hf_masks, order, is_target), "xlnet_perm_mask")
    expect_tensor(perm_mask, "perm_mask is float32 (T, T)", shape=(20, 20))
    want, _ = oracle_hf(order, is_target)
    rank = oracle_rank(order)
    targets = [p for p in range(20) if is_target[p]]
    leaks = [p for p in targets if perm_mask[p, p] == 0]
    expect(not leaks, "a target must not attend to its own position (it is what the query stream predicts)",
           f"positions {leaks} can attend to themselves in your perm_mask")
    for p in targets:
        seen = sorted(q for q in targets if perm_mask[p, q] == 0)
        expect(seen == sorted(q for q in targets if rank[q] < rank[p]), "a target may attend exactly to the targets "
               "earlier in the factorisation order (and to every non-target)",
               f"position {p} (rank {rank[p]}) may attend to targets {seen}; expected "
               f"{sorted(q for q in targets if rank[q] < rank[p])}")
    expect_equal(perm_mask, want, "the whole mask, as Hugging Face's formula", what="perm_mask")
