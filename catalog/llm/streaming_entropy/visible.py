"""Visible checks: the entropy of a uniform and a split distribution, and a stream's variance."""
import math

import torch

from mlkata.checks import Fail, check, expect_close, probe


@probe
def entropy(sub, chunks):
    return sub.streaming_entropy(chunks)


@probe
def stream(sub, batches, unbiased=None):
    """Feed batches to a RunningStats; report count, mean and variance (``unbiased`` passed only when
    given: its default is part of the contract)."""
    stats = sub.RunningStats()
    for batch in batches:
        stats.update(batch)
    variance = stats.variance() if unbiased is None else stats.variance(unbiased)
    return {"count": stats.count, "mean": stats.mean, "variance": variance}


def read_stream(got, what):
    for key in ("count", "mean", "variance"):
        value = got[key]
        if isinstance(value, bool) or not isinstance(value, (int, float, torch.Tensor)):
            raise Fail("RunningStats exposes count (int), mean and variance() as numbers",
                       f"{what}: {key} is {value!r}"[:300])
    return got


@check("uniform logits over 8 tokens, given in two chunks of 4: the entropy is log 8")
def uniform(run):
    got = run(entropy, [torch.zeros(1, 4), torch.zeros(1, 4)])
    expect_close(got, torch.tensor([math.log(8)], dtype=torch.float64), "H = log Z - E_p[x]; with equal logits the "
                 "distribution is uniform over all 8 tokens, whichever chunk they are in", what="streaming_entropy")


@check("the chunks are merged by rescaling to the larger max: [0, log 3] split in two chunks")
def two_chunks(run):
    got = run(entropy, [torch.tensor([[0.0]]), torch.tensor([[math.log(3.0)]])])
    p = [0.25, 0.75]
    expect_close(got, torch.tensor([-sum(q * math.log(q) for q in p)], dtype=torch.float64), "softmax([0, log 3]) "
                 "= [1/4, 3/4]: the entropy of the whole row, although each chunk holds one logit", what="entropy")


@check("RunningStats over three batches: count, mean and variance() -- unbiased by default -- of all the values")
def running(run):
    batches = [torch.tensor([1.0, 2.0]), torch.tensor([3.0]), torch.tensor([4.0, 5.0, 6.0])]
    got = read_stream(run(stream, batches), "three batches")
    expect_close(got["count"], 6, "count = number of values seen", what="count")
    expect_close(got["mean"], 3.5, "mean of 1..6", what="mean")
    expect_close(got["variance"], 3.5, "variance() is unbiased by default: 1..6 give 17.5 / 5",
                 what="variance()")
