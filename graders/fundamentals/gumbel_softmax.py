"""Hidden graders of fundamentals/gumbel_softmax: the noise replayed from the generator (shapes,
float64) and its distribution (the Gumbel CDF at two points over 20,000 draws); Gumbel-max sample
frequencies equal to softmax(logits) (expect_rate per class); soft samples at several tau,
huge logits, float64; hard samples (one-hot forward, straight-through gradient equal to the soft
gradient); the soft gradient; the global RNG untouched.  tests/test_twins_fundamentals_gumbel_softmax.py
compares with RelaxedOneHotCategorical and F.gumbel_softmax."""
import math

import torch

from mlkata.checks import Fail, check, describe, expect, expect_close, expect_rate, probe, visible_module

V = visible_module("fundamentals/gumbel_softmax")
N = 20_000


@probe
def many_samples(sub, logits, seed):
    """gumbel_max_sample on N copies of one row: one draw of N x K noise."""
    return sub.gumbel_max_sample(logits.expand(N, -1).contiguous(), torch.Generator().manual_seed(seed))


@probe
def rng_probe(sub, logits, seed):
    before = torch.get_rng_state()
    g = torch.Generator().manual_seed(seed)
    sub.gumbel_softmax(logits, 1.0, True, g)
    sub.gumbel_max_sample(logits, g)
    sub.sample_gumbel((3,), g)
    return torch.equal(before, torch.get_rng_state())


def logits_batch(seed, shape, scale=2.0, dtype=torch.float32):
    return (torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64) * scale).to(dtype)


@check("sample_gumbel replays the generator's uniforms for several shapes and float64")
def noise_random(run):
    for i, (shape, dtype) in enumerate((((5, 7), torch.float32), ((2, 3, 4), torch.float64), ((1,), torch.float32))):
        got = run(V.noise, shape, 10 + i, dtype)
        expect_tensor_like = isinstance(got, torch.Tensor) and tuple(got.shape) == shape and got.dtype == dtype
        expect(expect_tensor_like, "sample_gumbel returns a tensor of the given shape and dtype",
               f"shape {shape}, {dtype}: your code returned {describe(got)}")
        expect_close(got, V.gumbel_oracle(shape, 10 + i, dtype).to(dtype), "g = -log(-log(U + 1e-20) + 1e-20), U = "
                     "torch.rand(shape, generator=generator, dtype=dtype)", rtol=1e-5, atol=1e-6,
                     what=f"noise ({list(shape)}, {dtype})")


@check(f"the noise is standard Gumbel: P(g <= 0) = 1/e and P(g <= 2) = exp(-exp(-2)) over {N} draws")
def noise_distribution(run):
    g = run(V.noise, (N,), 20, torch.float64)
    if not isinstance(g, torch.Tensor) or g.shape != (N,):
        raise Fail("sample_gumbel returns a tensor of the given shape", f"your code returned {describe(g)}")
    for x in (0.0, 2.0):
        expect_rate(int((g <= x).sum()), N, math.exp(-math.exp(-x)), "a standard Gumbel variable has CDF "
                    "exp(-exp(-x)): -log(-log(U)), not -log(U) (an exponential) nor log(U)", what=f"share of g <= {x}")


@check(f"gumbel_max_sample is an exact categorical sample: class frequencies equal softmax(logits) ({N} draws)",
       points=2)
def gumbel_max_frequencies(run):
    logits = torch.tensor([1.0, 0.0, -1.0, 2.0])
    samples = run(many_samples, logits, 30)
    if not isinstance(samples, torch.Tensor) or samples.shape != (N,):
        raise Fail("gumbel_max_sample returns one int64 index per row", f"your code returned {describe(samples)}")
    probs = torch.softmax(logits.double(), 0)
    for k in range(4):
        expect_rate(int((samples == k).sum()), N, float(probs[k]), "argmax(logits + Gumbel noise) is distributed as "
                    "softmax(logits)", what=f"share of class {k}")


@check("gumbel_softmax(hard=False) on random logits at tau = 0.1, 1 and 5 (3-D, float64 too)", points=2)
def soft_random(run):
    for i, (shape, tau, dtype) in enumerate((((6, 5), 1.0, torch.float32), ((2, 3, 8), 0.1, torch.float32),
                                             ((4, 10), 5.0, torch.float64))):
        logits = logits_batch(40 + i, shape, dtype=dtype)
        V.expect_sample(run(V.relaxed, logits, tau, False, 50 + i), logits, tau, False, 50 + i,
                        f"{list(shape)}, tau = {tau}, {dtype}", rtol=1e-4, atol=1e-6)


@check("huge logits (1e4, float64) give finite soft and hard samples")
def huge_logits(run):
    logits = torch.tensor([[1e4, 0.0, -1e4], [5e3, 5e3 + 1.0, 0.0]], dtype=torch.float64)
    for hard in (False, True):
        got = run(V.relaxed, logits, 0.5, hard, 60)
        y = got["y"]
        expect(isinstance(y, torch.Tensor) and bool(torch.isfinite(y).all()), "a stable softmax (torch.softmax "
               "subtracts the row max) keeps huge logits finite", f"hard={hard}: your sample: {describe(y)}")
        V.expect_sample(got, logits, 0.5, hard, 60, f"logits ~1e4, hard={hard}")


@check("gumbel_softmax(hard=True) on random logits: one-hot rows, and the soft sample's gradient", points=2)
def hard_random(run):
    for i, (shape, tau) in enumerate((((5, 6), 1.0), ((2, 2, 4), 0.3))):
        logits = logits_batch(70 + i, shape)
        w = torch.randn(shape, generator=torch.Generator().manual_seed(80 + i))
        got = run(V.relaxed, logits, tau, True, 90 + i, w)
        V.expect_sample(got, logits, tau, True, 90 + i, f"{list(shape)}, tau = {tau}")
        expect(got["grad"] is not None, "the hard sample must carry the soft sample's gradient (y_hard - y.detach() "
               "+ y)", "your hard sample does not require grad")
        expect_close(got["grad"], V.grad_oracle(logits, tau, 90 + i, w).float(), "straight-through: the gradient of "
                     "the hard sample is the gradient of softmax((logits + g) / tau)", rtol=1e-4, atol=1e-6,
                     what=f"d sum(y * w) / d logits ({list(shape)}, tau = {tau})")


@check("the soft sample's gradient equals autograd of softmax((logits + g) / tau)")
def soft_gradient(run):
    logits = logits_batch(100, (4, 5), dtype=torch.float64)
    w = torch.randn(4, 5, generator=torch.Generator().manual_seed(101), dtype=torch.float64)
    got = run(V.relaxed, logits, 0.7, False, 102, w)
    expect(got["grad"] is not None, "y must be differentiable in logits", "your sample does not require grad")
    expect_close(got["grad"], V.grad_oracle(logits, 0.7, 102, w), "d y / d logits of softmax((logits + g) / tau)",
                 rtol=1e-8, atol=1e-10, what="d sum(y * w) / d logits")


@check("only the generator is used: torch's global RNG is untouched")
def generator_only(run):
    logits = logits_batch(110, (3, 4))
    V.expect_sample(run(V.relaxed, logits, 1.0, False, 111), logits, 1.0, False, 111, "tau = 1")
    expect(run(rng_probe, logits, 112), "draw every uniform from the generator you are given (torch.rand(..., "
           "generator=generator)), never from the global RNG", "torch's global RNG state changed")
