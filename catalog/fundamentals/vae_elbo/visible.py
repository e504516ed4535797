"""Visible checks: reparameterisation with a seeded generator, the KL of two small Gaussians, and
the negative ELBO of a tiny batch with a Bernoulli and a Gaussian decoder."""
import math

import torch
import torch.nn.functional as F

from mlkata.checks import Fail, check, describe, expect_close, expect_tensor, probe


@probe
def reparam(sub, mu, logvar, seed, weights=None):
    """reparameterize with a fresh generator; with ``weights``, also d sum(z * weights) / d (mu, logvar)."""
    mu = mu.clone().requires_grad_(weights is not None)
    logvar = logvar.clone().requires_grad_(weights is not None)
    z = sub.reparameterize(mu, logvar, torch.Generator().manual_seed(seed))
    out = {"z": z.detach() if isinstance(z, torch.Tensor) else z, "grads": None}
    if weights is not None and isinstance(z, torch.Tensor) and z.requires_grad:
        out["grads"] = list(torch.autograd.grad((z * weights).sum(), [mu, logvar], allow_unused=True))
    return out


@probe
def kl(sub, mu, logvar):
    return {"kl": sub.gaussian_kl(mu, logvar), "after": [mu, logvar]}


@probe
def elbo(sub, x, recon_x, mu, logvar, with_grads=False, **kwargs):
    """negative_elbo; with ``with_grads``, also d loss / d (recon_x, mu, logvar)."""
    leaves = [t.clone().requires_grad_(with_grads) for t in (recon_x, mu, logvar)]
    out = sub.negative_elbo(x, *leaves, **kwargs)
    report = {"out": out, "grads": None}
    if with_grads and isinstance(out, (tuple, list)) and isinstance(out[0], torch.Tensor) and out[0].requires_grad:
        report["grads"] = list(torch.autograd.grad(out[0], leaves, allow_unused=True))
    if isinstance(out, (tuple, list)):
        report["out"] = [o.detach() if isinstance(o, torch.Tensor) else o for o in out]
    return report


def kl_oracle(mu, logvar):
    """KL(N(mu, exp(logvar)) || N(0, 1)) summed over the last dim, from torch.distributions."""
    q = torch.distributions.Normal(mu.double(), (0.5 * logvar.double()).exp())
    p = torch.distributions.Normal(torch.zeros_like(mu, dtype=torch.float64), torch.ones_like(mu, dtype=torch.float64))
    return torch.distributions.kl_divergence(q, p).sum(-1).to(mu.dtype)


def elbo_oracle(x, recon_x, mu, logvar, likelihood="bernoulli", beta=1.0):
    """(loss, recon, kl) from F.binary_cross_entropy_with_logits / Normal.log_prob and kl_oracle, float64."""
    B = x.shape[0]
    if likelihood == "bernoulli":
        nll = F.binary_cross_entropy_with_logits(recon_x.double(), x.double(), reduction="none")
    else:
        nll = -torch.distributions.Normal(recon_x.double(), 1.0).log_prob(x.double())
    recon = nll.reshape(B, -1).sum(1).mean()
    k = kl_oracle(mu.double(), logvar.double()).mean()
    return recon + beta * k, recon, k


RECON_RULE = {"bernoulli": "recon = batch mean of the binary cross-entropy with logits, SUMMED over each example's "
                           "dimensions: sum(softplus(l) - x * l)",
              "gaussian": "recon = batch mean of sum(0.5 * (x - recon_x)^2 + 0.5 * log(2 pi)) over each example's "
                          "dimensions (unit-variance Gaussian, the constant included)"}


def expect_elbo(got, x, recon_x, mu, logvar, what, likelihood="bernoulli", beta=1.0, rtol=1e-5, atol=1e-5):
    """Judge side: (loss, recon, kl) are three 0-dim tensors equal to the oracle's."""
    out = got["out"]
    rule = "negative_elbo returns (loss, recon, kl), three 0-dim tensors"
    if not isinstance(out, (list, tuple)) or len(out) != 3:
        raise Fail(rule, f"{what}: your code returned {describe(out)}")
    for name, v in zip(("loss", "recon", "kl"), out):
        expect_tensor(v, rule + f" ({name})", shape=())
    want = elbo_oracle(x, recon_x, mu, logvar, likelihood, beta)
    expect_close(out[1], want[1], RECON_RULE[likelihood], rtol=rtol, atol=atol, what=f"recon ({what})")
    expect_close(out[2], want[2], "kl = batch mean of gaussian_kl(mu, logvar)", rtol=rtol, atol=atol,
                 what=f"kl ({what})")
    expect_close(out[0], want[0], "loss = recon + beta * kl", rtol=rtol, atol=atol, what=f"loss ({what}, beta={beta})")
    return out


@check("reparameterize: z = mu + exp(0.5 * logvar) * eps, eps = torch.randn(mu.shape, generator=...)")
def reparam_small(run):
    mu = torch.tensor([[0.0, 1.0, -2.0], [0.5, 0.5, 0.5]])
    logvar = torch.tensor([[0.0, math.log(4.0), -1.0], [2.0, 0.0, -3.0]])
    eps = torch.randn(mu.shape, generator=torch.Generator().manual_seed(0))
    got = run(reparam, mu, logvar, 0)["z"]
    expect_close(got, mu + (0.5 * logvar).exp() * eps, "z = mu + sigma * eps with sigma = exp(0.5 * logvar) and eps "
                 "drawn once from the generator with mu's shape and dtype", what="z")


@check("gaussian_kl of N([0, 1], [1, e]) and N([0, 0], [1, 1]) against the standard normal")
def kl_small(run):
    mu = torch.tensor([[0.0, 1.0], [0.0, 0.0]])
    logvar = torch.tensor([[0.0, 1.0], [0.0, 0.0]])
    got = run(kl, mu, logvar)["kl"]
    expect_close(got, torch.tensor([0.5 * (math.e + 1 - 1 - 1), 0.0]), "KL = 0.5 * sum_d (exp(logvar) + mu^2 - 1 - "
                 "logvar), one value per row", what="gaussian_kl")


@check("negative_elbo with a Bernoulli decoder on a 2 x 2 x 2 batch")
def elbo_bernoulli(run):
    x = torch.tensor([[[1.0, 0.0], [0.0, 1.0]], [[1.0, 1.0], [0.25, 0.0]]])
    recon_x = torch.tensor([[[2.0, -1.0], [0.0, 3.0]], [[1.0, 0.5], [-2.0, -4.0]]])
    mu, logvar = torch.tensor([[0.5, -0.5], [0.0, 1.0]]), torch.tensor([[0.0, -1.0], [0.5, 0.0]])
    expect_elbo(run(elbo, x, recon_x, mu, logvar), x, recon_x, mu, logvar, "Bernoulli, B=2")


@check("negative_elbo with a unit-variance Gaussian decoder")
def elbo_gaussian(run):
    x = torch.tensor([[0.5, -1.0, 2.0], [0.0, 0.0, 1.0]])
    recon_x = torch.tensor([[0.0, -1.0, 1.0], [0.5, 0.5, 0.5]])
    mu, logvar = torch.tensor([[0.5], [-1.0]]), torch.tensor([[0.0], [0.5]])
    expect_elbo(run(elbo, x, recon_x, mu, logvar, likelihood="gaussian"), x, recon_x, mu, logvar, "Gaussian, B=2",
                likelihood="gaussian")
