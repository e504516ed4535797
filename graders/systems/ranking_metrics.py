"""Hidden graders of systems/ranking_metrics: every metric against brute-force loops (Python
lists; ties handled by enumerating every tie-breaking order and averaging), the no-relevant and
k > N edge cases, dtypes and untouched inputs.  Agreement of this oracle and of the reference
with sklearn.metrics.ndcg_score is in tests/test_twins_systems_ranking_metrics.py."""
import itertools
import math

import torch

from mlkata.checks import check, expect, expect_close, expect_equal, visible_module

V = visible_module("systems/ranking_metrics")


# ---------------------------------------------------------------- brute-force oracle (no torch)

def orderings(scores):
    """Every order of the item indices that sorts ``scores`` descending (one per tie-breaking)."""
    groups = [[i for i, s in enumerate(scores) if s == v] for v in sorted(set(scores), reverse=True)]
    for parts in itertools.product(*[itertools.permutations(g) for g in groups]):
        yield [i for part in parts for i in part]


def _dcg(gains, k):
    return sum(g / math.log2(r + 2) for r, g in enumerate(gains[:k]))


def on_order(name, order, rel, k):
    """One metric of one query for one fixed ranking ``order``."""
    hits = [rel[i] > 0 for i in order]
    if name == "precision_at_k":
        return sum(hits[:k]) / k
    if name == "recall_at_k":
        return sum(hits[:k]) / sum(hits) if any(hits) else 0.0
    if name == "reciprocal_rank":
        return next((1 / (r + 1) for r, h in enumerate(hits) if h), 0.0)
    kk = len(rel) if k is None else k
    ideal = _dcg(sorted(rel, reverse=True), kk)
    return _dcg([rel[i] for i in order], kk) / ideal if ideal > 0 else 0.0


def brute(name, scores, relevance, k=None):
    """(Q,) float64: the metric of every query, averaged over all tie-breaking orders."""
    out = []
    for s, r in zip(scores.tolist(), relevance.double().tolist()):
        values = [on_order(name, o, r, k) for o in orderings(s)]
        out.append(sum(values) / len(values))
    return torch.tensor(out, dtype=torch.float64)


# ---------------------------------------------------------------- data

def batch(seed, Q, N, *, levels=2, ties=False, dtype=torch.float32):
    """Random scores (distinct within a row unless ``ties``) and relevance labels in 0..levels-1."""
    g = torch.Generator().manual_seed(seed)
    if ties:
        scores = torch.randint(0, 3, (Q, N), generator=g).to(dtype) / 2
    else:
        scores = torch.stack([torch.randperm(N, generator=g) for _ in range(Q)]).to(dtype) / N
        scores = scores + torch.randn(Q, 1, generator=g, dtype=dtype)            # not only in [0, 1)
    relevance = torch.randint(0, levels, (Q, N), generator=g)
    return scores, relevance


def _agree(run, name, cases, rule, k_of=lambda N: (1, 3, N)):
    for seed, Q, N, levels, ties in cases:
        scores, rel = batch(seed, Q, N, levels=levels, ties=ties)
        for k in ([()] if name == "reciprocal_rank" else [(k,) for k in k_of(N)]):
            got = V.per_query(run(V.metric, name, scores, rel, *k), Q, f"{name} (seed {seed})")
            expect_close(got, brute(name, scores, rel, *k), rule, rtol=1e-5, atol=1e-6,
                         what=f"{name}{'(k=%s)' % k[0] if k else ''} on {Q} queries x {N} items (seed {seed})")


TIE_FREE = [(1, 16, 8, 2, False), (2, 8, 13, 2, False), (3, 32, 5, 3, False)]


@check("precision@k agrees with a brute-force loop on random tie-free queries", points=2)
def precision_random(run):
    _agree(run, "precision_at_k", TIE_FREE, "precision@k = (relevant items, label > 0, in the top k) / k")


@check("recall@k agrees with a brute-force loop on random tie-free queries", points=2)
def recall_random(run):
    _agree(run, "recall_at_k", TIE_FREE, "recall@k = (relevant items in the top k) / (relevant items in the "
           "query), 0 for a query without relevant items")


@check("reciprocal rank agrees with a brute-force loop on random tie-free queries", points=2)
def rr_random(run):
    _agree(run, "reciprocal_rank", TIE_FREE + [(4, 64, 30, 2, False)],
           "reciprocal rank = 1 / rank of the highest-ranked relevant item (rank 1 = highest score), "
           "0 without relevant items")


@check("NDCG@k with graded relevance agrees with a brute-force loop (k = 1, 3, 5, None)", points=2)
def ndcg_random(run):
    _agree(run, "ndcg_at_k", [(5, 16, 8, 5, False), (6, 8, 12, 3, False), (7, 32, 4, 4, False)],
           "NDCG@k = sum_{r<=k} rel_r / log2(r + 1), divided by the same sum over the items sorted by their "
           "true relevance (linear gain)", k_of=lambda N: (1, 3, 5, None))


@check("the ideal DCG sorts ALL items by true relevance, also those the model ranked below k")
def ideal_from_all_items(run):
    scores = torch.tensor([[0.9, 0.8, 0.7, 0.1]])
    rel = torch.tensor([[1, 0, 0, 3]])            # the best item is ranked last
    got = V.per_query(run(V.metric, "ndcg_at_k", scores, rel, 2), 1, "ndcg_at_k(k=2)")
    expect_close(got, brute("ndcg_at_k", scores, rel, 2), "the ideal DCG@k is the DCG@k of the items sorted "
                 "by relevance -- taken over every item of the query, not only the k the model retrieved",
                 rtol=1e-5, what="ndcg_at_k(k=2), relevance [1, 0, 0, 3], best item ranked last")


@check("NDCG@k with tied scores is the average over every tie-breaking order (sklearn's ignore_ties=False)",
       points=2)
def ndcg_ties(run):
    _agree(run, "ndcg_at_k", [(8, 12, 6, 4, True), (9, 12, 5, 3, True)],
           "with tied scores, NDCG is its expected value over random tie-breaking: every item of a tied group "
           "gets the average discount of the positions the group occupies", k_of=lambda N: (1, 2, 4, None))


@check("precision@k and recall@k with tied scores are averaged over every tie-breaking order")
def precision_recall_ties(run):
    for name in ("precision_at_k", "recall_at_k"):
        _agree(run, name, [(10, 12, 6, 2, True)], "with tied scores, count a tied group that straddles the "
               "cutoff k fractionally: the expected number of its relevant items that land in the top k",
               k_of=lambda N: (1, 2, 4))


@check("a query without relevant items gives recall 0, reciprocal rank 0 and NDCG 0 -- never NaN")
def no_relevant(run):
    scores = torch.tensor([[0.3, 0.2, 0.1], [0.1, 0.2, 0.3]])
    rel = torch.tensor([[0, 0, 0], [0, 2, 0]])
    for name, k, want in (("precision_at_k", (2,), [0.0, 0.5]), ("recall_at_k", (2,), [0.0, 1.0]),
                          ("reciprocal_rank", (), [0.0, 0.5]), ("ndcg_at_k", (2,), [0.0, 1 / math.log2(3)])):
        got = V.per_query(run(V.metric, name, scores, rel, *k), 2, name)
        expect_close(got, torch.tensor(want), f"{name}: a query whose labels are all 0 scores 0 -- nothing "
                     "relevant was found (guard the division by zero; no relevant item is not rank 1)", what=f"{name}, first query all-irrelevant")


@check("k larger than N: precision still divides by k, NDCG@k equals NDCG over all items")
def k_beyond_n(run):
    scores, rel = batch(11, 6, 4, levels=3)
    got = V.per_query(run(V.metric, "precision_at_k", scores, rel, 10), 6, "precision_at_k(k=10)")
    expect_close(got, brute("precision_at_k", scores, rel, 10), "precision@k divides by k even when k > N "
                 "(the missing positions hold nothing relevant)", what="precision_at_k(k=10) with N=4")
    got = V.per_query(run(V.metric, "ndcg_at_k", scores, rel, 10), 6, "ndcg_at_k(k=10)")
    expect_close(got, brute("ndcg_at_k", scores, rel, None), "k >= N means every position counts",
                 what="ndcg_at_k(k=10) with N=4")


@check("float64 in, float64 out; int, bool and float labels work; scores and relevance are not modified")
def dtypes_and_inputs(run):
    scores, rel = batch(12, 5, 7, levels=3, dtype=torch.float64)
    for name, k in (("precision_at_k", (3,)), ("recall_at_k", (3,)), ("reciprocal_rank", ()), ("ndcg_at_k", (3,))):
        as_float = V.per_query(run(V.metric, name, scores, rel.double(), *k), 5, f"{name} with float64 labels")
        expect_close(as_float, brute(name, scores, rel.double(), *k), f"{name} agrees with the metric's definition",
                     rtol=1e-10, atol=1e-12, what=f"{name} with float64 labels")
        expect(as_float.dtype == torch.float64, f"{name} returns scores' dtype (float64 here)",
               f"your code returned {as_float.dtype}")
        binary = V.per_query(run(V.metric, name, scores, (rel > 0).double(), *k), 5, f"{name} with 0/1 labels")
        for labels, same_as in ((rel, as_float), (rel > 0, binary)):
            got = run(V.metric, name, scores, labels, *k)
            out = V.per_query(got, 5, f"{name} with {labels.dtype} labels")
            expect_close(out, same_as, f"{name} accepts {labels.dtype} relevance labels and gives the same result "
                         "as the same labels in floating point", rtol=1e-10, atol=1e-12,
                         what=f"{name} with {labels.dtype} labels")
            expect_equal(got["scores_after"], scores, f"{name} must not modify scores", what="scores afterwards")
            expect_equal(got["relevance_after"], labels, f"{name} must not modify relevance",
                         what="relevance afterwards")
