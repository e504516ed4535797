"""Visible checks: Gumbel noise from a seeded generator, a soft sample at tau = 1, a hard sample
(one-hot forward, the soft sample's gradient), and the Gumbel-max sample of peaked logits."""
import torch

from mlkata.checks import check, expect, expect_close, expect_equal, expect_tensor, probe

EPS = 1e-20


@probe
def noise(sub, shape, seed, dtype=torch.float32):
    return sub.sample_gumbel(shape, torch.Generator().manual_seed(seed), dtype)


@probe
def relaxed(sub, logits, tau, hard, seed, weights=None):
    """gumbel_softmax with a fresh generator; with ``weights``, also d sum(y * weights) / d logits."""
    logits = logits.clone().requires_grad_(weights is not None)
    y = sub.gumbel_softmax(logits, tau, hard, torch.Generator().manual_seed(seed))
    out = {"y": y.detach() if isinstance(y, torch.Tensor) else y, "grad": None}
    if weights is not None and isinstance(y, torch.Tensor) and y.requires_grad:
        out["grad"] = torch.autograd.grad((y * weights).sum(), logits)[0]
    return out


def gumbel_oracle(shape, seed, dtype=torch.float32):
    u = torch.rand(shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)
    return -torch.log(-torch.log(u.double() + EPS) + EPS)


def soft_oracle_dtype(logits, tau, seed):
    """The soft sample with the noise drawn in the logits' own dtype (as the contract draws it)."""
    g = gumbel_oracle(logits.shape, seed, logits.dtype)
    return torch.softmax((logits.double() + g) / tau, dim=-1)


def grad_oracle(logits, tau, seed, weights):
    """d sum(y_soft * weights) / d logits (float64): the gradient both variants must carry."""
    x = logits.detach().double().requires_grad_(True)
    g = gumbel_oracle(logits.shape, seed, logits.dtype)
    y = torch.softmax((x + g) / tau, dim=-1)
    return torch.autograd.grad((y * weights.double()).sum(), x)[0]


def expect_sample(got, logits, tau, hard, seed, what, rtol=1e-5, atol=1e-6):
    y = got["y"]
    rule = "gumbel_softmax returns a tensor shaped like logits"
    expect_tensor(y, rule, shape=logits.shape, dtype=logits.dtype)
    soft = soft_oracle_dtype(logits, tau, seed)
    if hard:
        want = torch.nn.functional.one_hot(soft.argmax(-1), logits.shape[-1]).double()
        expect_close(y, want.to(y.dtype), "hard=True: the forward value is the one-hot of argmax((logits + g) / tau) "
                     "over the last dimension", rtol=0, atol=1e-6, what=f"y ({what})")
    else:
        expect_close(y, soft.to(y.dtype), "y = softmax((logits + g) / tau) over the last dimension, g = "
                     "-log(-log(U + 1e-20) + 1e-20), U = torch.rand(logits.shape, generator=generator, "
                     "dtype=logits.dtype)", rtol=rtol, atol=atol, what=f"y ({what})")


@check("sample_gumbel: -log(-log(U + 1e-20) + 1e-20) of one torch.rand draw")
def noise_small(run):
    got = run(noise, (2, 3), 0)
    expect_tensor(got, "sample_gumbel returns a tensor of the given shape and dtype", shape=(2, 3), dtype=torch.float32)
    expect_close(got, gumbel_oracle((2, 3), 0).float(), "g = -log(-log(U + 1e-20) + 1e-20) with U = torch.rand(shape, "
                 "generator=generator, dtype=dtype)", rtol=1e-5, atol=1e-6, what="Gumbel noise")


@check("gumbel_softmax(hard=False) at tau = 1 on two rows")
def soft_small(run):
    logits = torch.tensor([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    expect_sample(run(relaxed, logits, 1.0, False, 1), logits, 1.0, False, 1, "tau = 1")


@check("gumbel_softmax(hard=True): one-hot forward, and the soft sample's gradient backward")
def hard_small(run):
    logits = torch.tensor([[0.5, 1.5, -1.0, 0.0]])
    w = torch.tensor([[1.0, -2.0, 0.5, 3.0]])
    got = run(relaxed, logits, 0.5, True, 2, w)
    expect_sample(got, logits, 0.5, True, 2, "hard, tau = 0.5")
    expect(got["grad"] is not None, "the straight-through sample keeps the soft sample's gradient: y_hard - "
           "y.detach() + y", "your hard sample does not require grad")
    expect_close(got["grad"], grad_oracle(logits, 0.5, 2, w).float(), "backward through the hard sample is backward "
                 "through softmax((logits + g) / tau)", rtol=1e-4, atol=1e-6, what="d sum(y * w) / d logits")


@check("gumbel_max_sample of peaked logits picks the dominant class")
def max_small(run):
    logits = torch.full((8, 4), 0.0)
    logits[torch.arange(8), torch.tensor([1, 0, 3, 2, 2, 0, 1, 3])] = 30.0     # one dominant class per row
    got = run("gumbel_max_sample", logits, torch.Generator().manual_seed(3))
    want = (logits.double() + gumbel_oracle(logits.shape, 3)).argmax(-1)
    expect_equal(got, want, "argmax over the last dimension of logits + g", what="samples")
