"""Visible checks: top-k and top-p filtering on small rows you can work out by hand."""
import math

import torch

from mlkata.checks import check, expect_close, probe

NEG_INF = float("-inf")


@probe
def filtered(sub, fn, logits, *args, **kwargs):
    """Call ``top_k_filter`` or ``top_p_filter``; report the output and the input afterwards."""
    out = getattr(sub, fn)(logits, *args, **kwargs)
    return {"out": out, "input_after": logits}


@probe
def filtered_many(sub, fn, cases):
    """``filtered`` for each ``(logits, args, kwargs)`` in ``cases``, in one call."""
    return [filtered.fn(sub, fn, logits, *args, **kwargs) for logits, args, kwargs in cases]


def log_probs(*probs):
    """Logits whose softmax is exactly ``probs`` (up to rounding)."""
    return torch.tensor([math.log(q) for q in probs])


@check("top_k_filter keeps the k largest logits and sets the rest to -inf")
def top_k_keeps_k_largest(run):
    got = run(filtered, "top_k_filter", torch.tensor([1.0, 3.0, 2.0, 0.5]), 2)
    expect_close(got["out"], torch.tensor([NEG_INF, 3.0, 2.0, NEG_INF]),
                 "keep the k largest entries unchanged and set every other entry to -inf",
                 what="top_k_filter([1, 3, 2, 0.5], k=2)")


@check("top_k_filter keeps every entry tied with the k-th largest")
def top_k_keeps_ties(run):
    got = run(filtered, "top_k_filter", torch.tensor([3.0, 2.0, 0.0, 2.0]), 2)
    expect_close(got["out"], torch.tensor([3.0, 2.0, NEG_INF, 2.0]),
                 "an entry equal to the k-th largest is kept too, so a row may keep more than k entries",
                 what="top_k_filter([3, 2, 0, 2], k=2)")


@check("top_p_filter keeps the token whose probability carries the sum across p")
def top_p_keeps_crossing_token(run):
    logits = log_probs(0.3, 0.5, 0.05, 0.15)
    got = run(filtered, "top_p_filter", logits, 0.7)
    want = logits.masked_fill(torch.tensor([False, False, True, True]), NEG_INF)
    expect_close(got["out"], want,
                 "probabilities [0.3, 0.5, 0.05, 0.15], p=0.7: 0.5 alone is below p, 0.5 + 0.3 reaches it, "
                 "so both are kept and the rest become -inf", what="top_p_filter(log[0.3, 0.5, 0.05, 0.15], p=0.7)")


@check("top_p_filter works row by row and never drops below min_tokens_to_keep")
def top_p_rows_and_min_tokens(run):
    logits = torch.stack([log_probs(0.9, 0.05, 0.03, 0.02), log_probs(0.1, 0.2, 0.3, 0.4)])   # (2, 4)
    got = run(filtered, "top_p_filter", logits, 0.5)
    want = logits.masked_fill(torch.tensor([[False, True, True, True], [True, True, False, False]]), NEG_INF)
    expect_close(got["out"], want, "each row keeps its own nucleus: 0.9 alone covers p=0.5 in row 0, "
                 "0.4 + 0.3 is needed in row 1", what="top_p_filter(2 rows, p=0.5)")
    got = run(filtered, "top_p_filter", logits, 0.5, min_tokens_to_keep=3)
    want = logits.masked_fill(torch.tensor([[False, False, False, True], [True, False, False, False]]), NEG_INF)
    expect_close(got["out"], want, "the min_tokens_to_keep most likely entries of every row are always kept",
                 what="top_p_filter(2 rows, p=0.5, min_tokens_to_keep=3)")


@check("both filters return a new tensor and leave their input unchanged")
def input_unchanged(run):
    x = torch.tensor([[0.0, 2.0, 1.0], [5.0, -1.0, 4.0]])
    inf = float("inf")
    want = torch.tensor([[-inf, 2.0, -inf], [5.0, -inf, -inf]])     # one token holds > half the mass in each row
    for fn, args in (("top_k_filter", (1,)), ("top_p_filter", (0.5,))):
        got = run(filtered, fn, x.clone(), *args)
        expect_close(got["out"], want, f"{fn} keeps the most likely token of each row here, -inf elsewhere",
                     what=f"{fn}(x, {args[0]})")
        expect_close(got["input_after"], x, f"{fn} must not modify the logits it is given (masked_fill, "
                     "not masked_fill_)", what=f"the input after calling {fn}")
