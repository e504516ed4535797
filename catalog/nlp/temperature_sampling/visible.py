"""Visible checks: temperature_probs and sample_next_token on rows you can work out by hand."""
import torch

from mlkata.checks import Fail, check, expect, expect_close, expect_equal, expect_tensor, probe

NEG_INF = float("-inf")


@probe
def probs(sub, logits, temperature):
    """Call ``temperature_probs``; report the output and the input afterwards."""
    out = sub.temperature_probs(logits, temperature)
    return {"out": out, "input_after": logits}


@probe
def probs_many(sub, cases):
    """``probs`` for each ``(logits, temperature)`` in ``cases``, in one call (each on its own copy)."""
    return [probs.fn(sub, logits.clone(), t) for logits, t in cases]


@probe
def sample(sub, logits, temperature=None, seed=0, use_generator=True, global_seed=None):
    """Call ``sample_next_token`` with a fresh generator seeded ``seed`` (or none); report the
    ids and the input afterwards.  ``global_seed`` seeds torch's global generator first;
    ``temperature=None`` leaves it at its default (1.0)."""
    if global_seed is not None:
        torch.manual_seed(global_seed)
    gen = torch.Generator().manual_seed(seed) if use_generator else None
    out = (sub.sample_next_token(logits, generator=gen) if temperature is None
           else sub.sample_next_token(logits, temperature, generator=gen))
    return {"out": out, "input_after": logits}


def ids_of(got, shape, what, rule="sample_next_token returns int64 token ids of shape logits.shape[:-1]"):
    """The ids a ``sample`` probe reported, checked for type, shape and dtype."""
    ids = got["out"]
    expect_tensor(ids, rule)
    if tuple(ids.shape) != tuple(shape):
        raise Fail(rule, f"{what}: expected shape {list(shape)}, your code produced shape {list(ids.shape)}"
                   + (" -- torch.multinomial(..., 1) leaves a trailing dimension of size 1"
                      if tuple(ids.shape) == tuple(shape) + (1,) else ""))
    if ids.dtype != torch.int64:
        raise Fail(rule, f"{what}: expected dtype torch.int64, your code produced {ids.dtype}")
    return ids


@check("temperature_probs at T=1 is the softmax of the logits")
def t1_is_softmax(run):
    x = torch.tensor([1.0, 2.0, 3.0])
    got = run(probs, x, 1.0)
    expect_close(got["out"], torch.softmax(x, -1), "at temperature 1 the distribution is softmax(logits)",
                 what="temperature_probs([1, 2, 3], T=1)")


@check("a high temperature flattens the distribution, a low one sharpens it")
def flattens_and_sharpens(run):
    x = torch.tensor([2.0, 0.0])
    for t, scaled in ((2.0, [1.0, 0.0]), (0.5, [4.0, 0.0])):
        got = run(probs, x, t)
        expect_close(got["out"], torch.softmax(torch.tensor(scaled), -1),
                     f"divide the logits by T before the softmax: [2, 0] / {t} = {scaled}",
                     what=f"temperature_probs([2, 0], T={t})")


@check("T=0 is greedy decoding: one-hot on the first largest logit, and sampling returns the argmax")
def zero_is_greedy(run):
    x = torch.tensor([[1.0, 3.0, 3.0, 0.0], [NEG_INF, -2.0, -1.0, NEG_INF]])
    got = run(probs, x, 0.0)
    expect_close(got["out"], torch.tensor([[0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0]]),
                 "T=0 puts all the mass on the first index of each row's maximum (ties: the first one)",
                 what="temperature_probs(x, T=0)")
    ids = ids_of(run(sample, x, 0.0), (2,), "sample_next_token(x, T=0)")
    expect_equal(ids, torch.tensor([1, 2]), "T=0 returns each row's argmax (the first index on ties)",
                 what="sample_next_token(x, T=0)")


@check("sample_next_token returns int64 ids of shape logits.shape[:-1] and never draws a -inf token")
def shape_and_neg_inf(run):
    x = torch.tensor([[0.0, NEG_INF, 1.0, NEG_INF, 0.5]]).repeat(40, 25, 1)    # (40, 25, 5)
    ids = ids_of(run(sample, x, 1.0, seed=1), (40, 25), "sample_next_token(logits of shape [40, 25, 5])")
    drawn = sorted(set(ids.reshape(-1).tolist()))
    expect(set(drawn) <= {0, 2, 4}, "a token whose logit is -inf has probability 0 and is never drawn",
           f"rows [0, -inf, 1, -inf, 0.5]: expected only ids 0, 2, 4, your code drew {drawn}")
    # ids 0, 2, 4 have probabilities 0.19, 0.51, 0.31: in 1000 draws each appears (else p < 1e-80)
    expect(drawn == [0, 2, 4], "every token with a finite logit can be drawn, with probability softmax(logits)",
           f"rows [0, -inf, 1, -inf, 0.5]: 1000 draws gave only the ids {drawn}")


@check("the same generator seed gives the same tokens")
def reproducible(run):
    x = torch.randn(40, 10, generator=torch.Generator().manual_seed(0))
    a = ids_of(run(sample, x, 1.0, seed=7, global_seed=1), (40,), "first call")
    b = ids_of(run(sample, x, 1.0, seed=7, global_seed=2), (40,), "second call")
    expect_equal(b, a, "take every random draw from `generator` (torch.multinomial(..., generator=generator))",
                 what="ids of a second call with a generator of the same seed")
    c = ids_of(run(sample, x, 1.0, seed=8, global_seed=1), (40,), "call with another seed")
    expect(not torch.equal(c, a), "the draws are random: a generator of another seed gives other ids",
           "generators seeded 7 and 8 gave the same 40 ids")
