"""Hidden graders of vision/nt_xent: logits, targets and the loss against F.cross_entropy on the
masked similarity matrix (tests/test_twins_vision_nt_xent.py shows it equals pytorch-metric-learning's
NTXentLoss) on random batches and temperatures, gradients w.r.t. both views, symmetry in the two
views, scale invariance, a zero embedding, and small temperatures."""
import torch
import torch.nn.functional as F

from mlkata.checks import Fail, check, expect, expect_close, expect_equal, expect_tensor, visible_module

V = visible_module("vision/nt_xent")


def oracle_logits(z1, z2, tau):
    z = F.normalize(torch.cat([z1, z2]).double(), dim=1)
    logits = z @ z.T / tau
    logits.fill_diagonal_(float("-inf"))
    n = len(z1)
    return logits, torch.cat([torch.arange(n, 2 * n), torch.arange(n)])


def oracle_loss(z1, z2, tau):
    logits, targets = oracle_logits(z1, z2, tau)
    return F.cross_entropy(logits, targets)


def views(seed, N=8, D=16, noise=0.5, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    base = torch.randn(N, D, generator=g, dtype=torch.float64) * 2
    z1 = base + noise * torch.randn(N, D, generator=g, dtype=torch.float64)
    z2 = base + noise * torch.randn(N, D, generator=g, dtype=torch.float64)
    return z1.to(dtype), z2.to(dtype)


def loss(got, what):
    out = got["loss"]
    if not isinstance(out, torch.Tensor) or out.dim() != 0:
        raise Fail("nt_xent_loss returns a 0-dim tensor", f"{what}: your code returned {out!r}"[:300])
    return out


@check("nt_xent_logits agrees with the masked cosine-similarity matrix and its targets on random batches (and with "
       "the default temperature, 0.5)", points=2)
def logits_random(run):
    for seed, N, tau in [(0, 3, None), (1, 8, 0.1), (2, 5, 1.0)]:             # None: the default, 0.5
        z1, z2 = views(seed, N=N)
        logits, targets = V.pair(run(V.logits_of, z1, z2, tau))
        want_l, want_t = oracle_logits(z1, z2, 0.5 if tau is None else tau)
        expect_tensor(logits, "logits are (2N, 2N)", shape=(2 * N, 2 * N))
        expect_close(logits, want_l.float(), "logits[i, j] = cos(z_i, z_j) / tau over [z1; z2], -inf on the diagonal; "
                     "tau defaults to 0.5", rtol=1e-5, atol=1e-5,
                     what=f"logits (N={N}, tau={'0.5, the default' if tau is None else tau})")
        expect_equal(targets, want_t, "targets[i] = i + N for the first view, i - N for the second",
                     what=f"targets (N={N})")


@check("nt_xent_loss agrees with cross-entropy on the masked logits, random batches and temperatures", points=2)
def loss_random(run):
    for seed, N, tau, dtype in [(10, 4, 0.5, torch.float32), (11, 16, 0.07, torch.float32),
                                (12, 9, 0.2, torch.float64), (13, 2, 1.0, torch.float32)]:
        z1, z2 = views(seed, N=N, dtype=dtype)
        got = loss(run(V.loss_of, z1, z2, tau), f"seed {seed}")
        expect_close(got, oracle_loss(z1, z2, tau), "mean over all 2N anchors of -log(exp(sim to its other view) / "
                     "sum over every OTHER embedding)", rtol=1e-5, atol=1e-6,
                     what=f"loss (N={N}, tau={tau}, {dtype})")
        expect(got.dtype == dtype, "the loss is in the inputs' dtype", f"inputs {dtype}, loss {got.dtype}")


@check("the default temperature is 0.5")
def default_tau(run):
    z1, z2 = views(20)
    got = loss(run(V.loss_of, z1, z2), "default tau")
    expect_close(got, oracle_loss(z1, z2, 0.5), "temperature defaults to 0.5", rtol=1e-5, atol=1e-6, what="loss")


@check("gradients w.r.t. both views agree (float64)", points=2)
def gradients(run):
    z1, z2 = views(30, N=6, dtype=torch.float64)
    got = run(V.loss_of, z1, z2, 0.3, grad=True)
    loss(got, "gradients")
    if any(g is None for g in got["grads"]):
        raise Fail("the loss is differentiable w.r.t. z1 and z2 (through the normalisation)",
                   "no gradient reached one of the views")
    a, b = z1.clone().requires_grad_(True), z2.clone().requires_grad_(True)
    oracle_loss(a, b, 0.3).backward()
    expect_close(got["grads"][0], a.grad, "d loss / d z1, through the row normalisation", rtol=1e-7, atol=1e-10,
                 what="d loss / d z1")
    expect_close(got["grads"][1], b.grad, "d loss / d z2", rtol=1e-7, atol=1e-10, what="d loss / d z2")


@check("symmetric in the views and blind to each embedding's length (it is normalised)")
def invariances(run):
    z1, z2 = views(40, N=7)
    want = oracle_loss(z1, z2, 0.5)
    scales = torch.rand(7, 1, generator=torch.Generator().manual_seed(41)) * 10 + 0.1
    for name, args in (("swapped views", (z2, z1)), ("rows rescaled", (z1 * scales, z2))):
        got = loss(run(V.loss_of, *args, 0.5), name)
        expect_close(got, want, "both halves of the batch are anchors (swapping the views changes nothing), and only "
                     "directions matter (normalise each row)", rtol=1e-5, atol=1e-6, what=f"loss ({name})")


@check("stability: tau = 0.01 (logits up to 100) and a zero embedding give the exact finite loss")
def stability(run):
    z1, z2 = views(50, N=6, noise=0.05)
    z1[2] = 0.0                                                    # a dead embedding: normalised to 0, not nan
    got = loss(run(V.loss_of, z1, z2, 0.01), "tau 0.01")
    expect(bool(torch.isfinite(got)), "divide by max(norm, 1e-12) and use logsumexp: exp(100) overflows float32 "
           "and 0 / 0 is nan", f"your loss: {got.item()}")
    expect_close(got, oracle_loss(z1, z2, 0.01), "the loss at a small temperature", rtol=1e-5, atol=1e-5,
                 what="loss (tau = 0.01, one zero embedding)")
