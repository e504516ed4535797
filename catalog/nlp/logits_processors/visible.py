"""Visible checks: each processor on one small row you can work out by hand, and the chain."""
import math

import torch

from mlkata.checks import check, expect_close, probe

NEG_INF = float("-inf")


@probe
def processed(sub, fn, *args, **kwargs):
    """Call ``fn``; report the result and the scores argument afterwards (it must not change)."""
    scores = args[1] if fn in ("repetition_penalty", "no_repeat_ngram", "process") else args[0]
    out = getattr(sub, fn)(*args, **kwargs)
    return {"out": out, "scores_after": scores}


@check("repetition_penalty divides positive logits and multiplies negative ones, once per distinct token")
def penalty_by_hand(run):
    ids = torch.tensor([[1, 3, 1]])
    scores = torch.tensor([[2.0, 4.0, -1.0, -3.0]])
    got = run(processed, "repetition_penalty", ids, scores.clone(), 2.0)
    expect_close(got["out"], torch.tensor([[2.0, 2.0, -1.0, -6.0]]), "token 1 (4.0) becomes 4 / 2; token 3 (-3.0) "
                 "becomes -3 * 2 -- once, although token 1 occurs twice; tokens 0 and 2 are untouched",
                 what="repetition_penalty([[1, 3, 1]], [[2, 4, -1, -3]], 2.0)")


@check("no_repeat_ngram bans the token that would repeat a bigram")
def ngram_by_hand(run):
    ids = torch.tensor([[5, 2, 7, 5]])
    got = run(processed, "no_repeat_ngram", ids, torch.zeros(1, 8), 2)
    want = torch.zeros(1, 8)
    want[0, 2] = NEG_INF
    expect_close(got["out"], want, "the row ends with 5 and already contains the bigram (5, 2): token 2 is banned",
                 what="no_repeat_ngram([[5, 2, 7, 5]], zeros, n=2)")


@check("min_p_filter keeps tokens with probability >= min_p * the top probability")
def min_p_by_hand(run):
    scores = torch.log(torch.tensor([[0.5, 0.3, 0.12, 0.08]]))
    got = run(processed, "min_p_filter", scores.clone(), 0.2)
    want = scores.clone()
    want[0, 3] = NEG_INF
    expect_close(got["out"], want, "the threshold is 0.2 * 0.5 = 0.1: 0.12 stays, 0.08 goes", rtol=1e-6, atol=1e-7,
                 what="min_p_filter(log[0.5, 0.3, 0.12, 0.08], 0.2)")


@check("process applies the repetition penalty, then no-repeat n-grams, then min-p")
def chain_by_hand(run):
    ids = torch.tensor([[0, 1, 0]])
    scores = torch.tensor([[2.0, 1.5, 1.0, -5.0]])
    got = run(processed, "process", ids, scores.clone(), penalty=2.0, ngram=2, min_p=0.3)
    # penalty: [1.0, 0.75, 1.0, -5.0]; bigram (0, 1) exists and the row ends with 0: ban 1;
    # min-p: probabilities of [1, -inf, 1, -5] -> token 3 is far below 0.3 * max
    want = torch.tensor([[1.0, NEG_INF, 1.0, NEG_INF]])
    expect_close(got["out"], want, "penalty (2 / 2 = 1, 1.5 / 2, ...), then the repeated bigram (0, 1) bans token 1, "
                 "then min-p drops token 3", what="process(..., penalty=2, ngram=2, min_p=0.3)")
