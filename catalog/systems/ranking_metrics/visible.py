"""Visible checks: each metric on two small hand-worked queries, and one tie."""
import math

import torch

from mlkata.checks import Fail, check, describe, expect_close, probe


@probe
def metric(sub, name, scores, relevance, *k):
    """``sub.<name>(scores, relevance, *k)``, and the inputs afterwards."""
    out = getattr(sub, name)(scores, relevance, *k)
    return {"out": out, "scores_after": scores, "relevance_after": relevance}


def per_query(got, Q, what, rule="return one value per query: a tensor of shape (Q,)"):
    """Judge side: the probe's output as a (Q,) tensor, or a Fail naming what came back."""
    out = got["out"]
    if not isinstance(out, torch.Tensor) or tuple(out.shape) != (Q,):
        raise Fail(rule, f"{what}: expected a tensor of shape [{Q}], your code returned {describe(out)}")
    return out


# Two queries over five items.  Query 0 ranks items 0..4 in order; query 1 ranks them 4, 3, 2, 1, 0.
SCORES = torch.tensor([[0.9, 0.8, 0.7, 0.6, 0.5],
                       [0.1, 0.2, 0.3, 0.4, 0.5]])
REL = torch.tensor([[1, 0, 1, 0, 1],
                    [0, 0, 2, 0, 0]])


@check("precision@k counts relevant items among the top k and divides by k; recall@k divides by all relevant")
def precision_and_recall(run):
    p = per_query(run(metric, "precision_at_k", SCORES, REL, 3), 2, "precision_at_k(k=3)")
    # query 0: top 3 = items 0, 1, 2 -> 2 relevant; query 1: top 3 = items 4, 3, 2 -> 1 relevant
    expect_close(p, torch.tensor([2 / 3, 1 / 3]), "precision@k = (relevant items in the top k) / k",
                 what="precision_at_k(k=3)")
    r = per_query(run(metric, "recall_at_k", SCORES, REL, 3), 2, "recall_at_k(k=3)")
    expect_close(r, torch.tensor([2 / 3, 1.0]), "recall@k = (relevant items in the top k) / (relevant items "
                 "in the query)", what="recall_at_k(k=3)")


@check("reciprocal rank is 1 / rank of the first relevant item, and 0 when nothing is relevant")
def reciprocal_rank_small(run):
    rel = torch.tensor([[0, 0, 1, 0, 1], [0, 0, 0, 0, 0]])
    rr = per_query(run(metric, "reciprocal_rank", SCORES, rel), 2, "reciprocal_rank")
    expect_close(rr, torch.tensor([1 / 3, 0.0]), "reciprocal rank = 1 / rank (counted from 1) of the "
                 "highest-ranked relevant item; 0 for a query without relevant items", what="reciprocal_rank")


@check("NDCG@3 with linear gain rel / log2(rank + 1), normalised by the ideal ranking's DCG")
def ndcg_small(run):
    scores = torch.tensor([[0.9, 0.8, 0.7, 0.6]])
    rel = torch.tensor([[1, 3, 0, 2]])                 # the ranking shows relevances 1, 3, 0 in its top 3
    dcg = 1 / math.log2(2) + 3 / math.log2(3) + 0 / math.log2(4)
    ideal = 3 / math.log2(2) + 2 / math.log2(3) + 1 / math.log2(4)
    got = per_query(run(metric, "ndcg_at_k", scores, rel, 3), 1, "ndcg_at_k(k=3)")
    expect_close(got, torch.tensor([dcg / ideal]), "NDCG@k = DCG@k / ideal DCG@k, gain = rel (linear, not "
                 "2^rel - 1), discount 1 / log2(rank + 1) with rank counted from 1", what="ndcg_at_k(k=3)")


@check("tied scores count as broken at random: two items tied at the top, one relevant, give precision@1 = 1/2")
def tie_at_the_top(run):
    scores = torch.tensor([[0.5, 0.5, 0.1], [0.9, 0.5, 0.5]])
    rel = torch.tensor([[1, 0, 0], [0, 1, 0]])
    got = per_query(run(metric, "precision_at_k", scores, rel, 1), 2, "precision_at_k(k=1)")
    expect_close(got, torch.tensor([0.5, 0.0]), "ties are broken uniformly at random (the expected value): "
                 "average the position weights over a tied group instead of picking an order",
                 what="precision_at_k(k=1): a tie at the top (row 0), a clear irrelevant top item (row 1)")
