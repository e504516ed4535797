"""Hidden graders of llm/streaming_entropy: the chunked entropy against the entropy of the whole
softmax on random logits split at random points (huge, tiny and -inf logits, all -inf chunks),
the summaries and their merge (order-independence with correct values), and RunningStats against
the mean and variance of the concatenated stream (random batch sizes, empty batches, merges of
separate streams, values near 1e8 where sum-of-squares formulas lose every digit).
tests/test_twins_llm_streaming_entropy.py compares with torch.distributions.Categorical."""
import math

import torch

from mlkata.checks import Fail, check, expect, expect_close, probe, visible_module

V = visible_module("llm/streaming_entropy")


def oracle_entropy(logits):
    x = logits.double()
    logp = torch.log_softmax(x, dim=1)
    p = logp.exp()
    return -(torch.where(p > 0, p * logp, torch.zeros_like(p))).sum(dim=1)


def split(logits, g, pieces):
    V_ = logits.shape[1]
    cuts = sorted(torch.randperm(V_ - 1, generator=g)[: pieces - 1].add(1).tolist())
    bounds = [0] + cuts + [V_]
    return [logits[:, a:b] for a, b in zip(bounds, bounds[1:])]


def logits_case(seed, B=4, V_=50, scale=3.0, pieces=4, masked=0.0, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    x = (torch.randn(B, V_, generator=g, dtype=torch.float64) * scale).to(dtype)
    if masked:
        x[torch.rand(B, V_, generator=g) < masked] = -math.inf
        x[:, 0] = 0.0                                           # every row keeps a finite logit
    return x, split(x, g, pieces)


def stream_case(seed, n_batches=6, loc=0.0, scale=1.0):
    g = torch.Generator().manual_seed(seed)
    sizes = torch.randint(0, 9, (n_batches,), generator=g).tolist()
    sizes[0] = max(sizes[0], 1)
    return [(torch.randn(n, generator=g, dtype=torch.float64) * scale + loc) for n in sizes]


@probe
def merged_both_ways(sub, left, right):
    """Entropy from merge(left, right) and merge(right, left) of two chunks' summaries."""
    a, b = sub.chunk_summary(left), sub.chunk_summary(right)
    out = []
    for first, second in ((a, b), (b, a)):
        m, s, t = sub.merge_summaries(first, second)
        out.append(m + torch.log(s) - t / s)
    return out


@probe
def merged_streams(sub, left_batches, right_batches):
    """Two RunningStats fed separately, then merged (both orders); the inputs' counts afterwards."""
    left, right = sub.RunningStats(), sub.RunningStats()
    for b in left_batches:
        left.update(b)
    for b in right_batches:
        right.update(b)
    out = []
    for a, b in ((left, right), (right, left)):
        m = a.merge(b)
        out.append({"count": m.count, "mean": m.mean, "variance": m.variance(True)})
    return {"merged": out, "left_count": left.count, "right_count": right.count}


def expect_stream(got, values, rule, what, rtol=1e-9):
    V.read_stream(got, what)
    x = torch.cat(values) if values else torch.zeros(0, dtype=torch.float64)
    expect_close(got["count"], x.numel(), rule, what=f"count ({what})")
    expect_close(got["mean"], float(x.double().mean()), rule, rtol=rtol, atol=1e-9, what=f"mean ({what})")
    expect_close(got["variance"], float(x.double().var()), rule, rtol=rtol, atol=1e-9, what=f"variance ({what})")


@check("streaming_entropy equals the entropy of the whole softmax on random logits split at random points", points=2)
def entropy_random(run):
    for seed, pieces, scale in [(0, 1, 3.0), (1, 4, 3.0), (2, 10, 1.0), (3, 7, 20.0), (4, 2, 0.01)]:
        x, chunks = logits_case(seed, pieces=pieces, scale=scale)
        got = run(V.entropy, chunks)
        expect_close(got, oracle_entropy(x), "H = log Z - E_p[x] of the whole row, from the merged (m, s, t) "
                     "summaries of its chunks", check_dtype=True, rtol=1e-9, atol=1e-10,
                     what=f"entropy ({pieces} chunks, logits scale {scale})")


@check("stability: logits around 1e4 and chunks whose max is far below the others' stay exact")
def entropy_huge(run):
    x, _ = logits_case(10, scale=2.0)
    x = x.double() + 1e4                                       # exp(1e4) overflows; the entropy is not small
    x[:, :10] -= 2e4                                           # a chunk far below the others
    chunks = [x[:, :10], x[:, 10:23], x[:, 23:]]
    got = run(V.entropy, chunks)
    expect(isinstance(got, torch.Tensor) and bool(torch.isfinite(got).all()), "subtract the running max before exp: "
           "exp(1e4) overflows", f"your entropies: {got}")
    expect_close(got, oracle_entropy(x), "only differences between logits matter: subtract the max",
                 rtol=1e-6, atol=1e-9, what="entropy (logits around 1e4)")


@check("-inf logits (masked tokens) contribute nothing, even a chunk that is entirely -inf", points=2)
def entropy_masked(run):
    x, chunks = logits_case(20, masked=0.5, pieces=5)
    got = run(V.entropy, chunks)
    expect_close(got, oracle_entropy(x), "a -inf logit has probability 0: skip it in t (0 * -inf is nan)",
                 rtol=1e-9, atol=1e-10, what="entropy with masked logits")
    x = torch.randn(3, 12, generator=torch.Generator().manual_seed(21))
    x[:, 4:8] = -math.inf
    got = run(V.entropy, [x[:, :4], x[:, 4:8], x[:, 8:]])
    expect_close(got, oracle_entropy(x), "a chunk that is all -inf has m = -inf and adds nothing to the merge "
                 "(exp(-inf - (-inf)) would be nan)", rtol=1e-9, atol=1e-10, what="entropy with an all -inf chunk")


@check("merge_summaries is order-independent: merge(a, b) and merge(b, a) give the same (correct) entropy")
def merge_symmetric(run):
    x, (left, right) = logits_case(30, pieces=2, scale=5.0)
    got = run(merged_both_ways, left, right)
    want = oracle_entropy(x)
    for i, e in enumerate(got):
        expect_close(e, want, "the merged summary describes both chunks, in either order", rtol=1e-9, atol=1e-10,
                     what=f"entropy of merge({'a, b' if i == 0 else 'b, a'})")


@check("RunningStats agrees with the mean and variance of the whole stream (random batch sizes, empty batches)",
       points=2)
def stream_random(run):
    for seed in (40, 41, 42):
        batches = stream_case(seed, loc=seed - 41.0, scale=2.0)
        expect_stream(run(V.stream, batches), batches, "merge each batch's (count, mean, M2) into the stream's; "
                      "variance() = M2 / (count - 1) (unbiased unless told otherwise)",
                      f"seed {seed}, batch sizes {[len(b) for b in batches]}")


@check("biased variance divides by count; a single value has unbiased variance nan")
def variance_options(run):
    batches = stream_case(50)
    got = V.read_stream(run(V.stream, batches, False), "biased")
    x = torch.cat(batches)
    expect_close(got["variance"], float(x.var(unbiased=False)), "variance(unbiased=False) = M2 / count",
                 rtol=1e-9, atol=1e-12, what="biased variance")
    got = V.read_stream(run(V.stream, [torch.tensor([3.0])]), "one value")
    v = got["variance"]
    expect(isinstance(v, (float, torch.Tensor)) and math.isnan(float(v)), "with one value the unbiased variance "
           "divides by 0: return nan", f"your variance of a single value: {v}")


@check("values near 1e8 with spread 1: the merged variance keeps its digits (no sum-of-squares formula)")
def catastrophic_cancellation(run):
    batches = stream_case(60, n_batches=8, loc=1e8, scale=1.0)
    expect_stream(run(V.stream, batches), batches, "merge (count, mean, M2) with Chan's formula: sum(x^2) - n mean^2 "
                  "at 1e8 cancels 16 digits", "values around 1e8", rtol=1e-6)   # float64 holds 1e8 to ~1e-8


@check("merge() of two separately fed streams equals one stream of all the values, in either order; inputs unchanged")
def merge_streams(run):
    left, right = stream_case(70, n_batches=3, scale=3.0), stream_case(71, n_batches=4, loc=5.0)
    got = run(merged_streams, left, right)
    for i, m in enumerate(got["merged"]):
        expect_stream(m, left + right, "Chan's formula: n = n_a + n_b, mean = mean_a + delta n_b / n, "
                      "M2 = M2_a + M2_b + delta^2 n_a n_b / n", f"merge, order {i}")
    expect(got["left_count"] == sum(len(b) for b in left) and got["right_count"] == sum(len(b) for b in right),
           "merge() returns a new RunningStats and leaves both inputs as they were",
           f"after merging, the inputs' counts are {got['left_count']} and {got['right_count']}")
