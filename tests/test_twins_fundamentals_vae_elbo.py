"""Library twins of fundamentals/vae_elbo: the reference's KL equals
``torch.distributions.kl_divergence(Normal(mu, sigma), Normal(0, 1))`` summed over the latent
dimension; its reconstruction terms equal ``F.binary_cross_entropy_with_logits(reduction="sum")``
and ``-Normal(recon_x, 1).log_prob(x).sum()`` divided by the batch size; its reparameterised samples
have the moments of ``Normal(mu, sigma).rsample()`` and the same pathwise gradients."""
import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch.distributions import Normal, kl_divergence

from mlkata.engine import load_module

ROOT = Path(__file__).resolve().parent.parent
REF = load_module(str(ROOT / "solutions" / "fundamentals" / "vae_elbo.py"), "_twin_ref_vae_elbo")
GRADER = load_module(str(ROOT / "graders" / "fundamentals" / "vae_elbo.py"), "_twin_grader_vae_elbo")


@pytest.mark.parametrize("shape", [(8, 4), (3, 5, 2), (1, 16)])
def test_kl_matches_torch_distributions(shape):
    mu, logvar = GRADER.latents(sum(shape), shape, torch.float64, spread=3.0)
    want = kl_divergence(Normal(mu, (0.5 * logvar).exp()), Normal(0.0, 1.0)).sum(-1)
    torch.testing.assert_close(REF.gaussian_kl(mu, logvar), want, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(GRADER.V.kl_oracle(mu, logvar), want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian"])
def test_negative_elbo_matches_torch(likelihood):
    g = torch.Generator().manual_seed(3)
    x = torch.rand(6, 2, 5, 5, generator=g, dtype=torch.float64)
    recon_x = torch.randn(6, 2, 5, 5, generator=g, dtype=torch.float64) * 20     # logits up to ~+-60
    mu, logvar = GRADER.latents(4, (6, 3), torch.float64)
    if likelihood == "bernoulli":
        recon = F.binary_cross_entropy_with_logits(recon_x, x, reduction="sum") / 6
    else:
        recon = -Normal(recon_x, 1.0).log_prob(x).sum() / 6
    kl = kl_divergence(Normal(mu, (0.5 * logvar).exp()), Normal(0.0, 1.0)).sum() / 6
    loss, got_recon, got_kl = REF.negative_elbo(x, recon_x, mu, logvar, likelihood, beta=3.0)
    torch.testing.assert_close(got_recon, recon, rtol=1e-12, atol=1e-10)
    torch.testing.assert_close(got_kl, kl, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(loss, recon + 3.0 * kl, rtol=1e-12, atol=1e-10)


def test_reparameterised_samples_have_normals_moments_and_pathwise_gradients():
    n = 200_000
    mu = torch.tensor([1.5, -2.0], dtype=torch.float64).expand(n, 2)
    logvar = torch.tensor([math.log(0.25), math.log(9.0)], dtype=torch.float64).expand(n, 2)
    z = REF.reparameterize(mu, logvar, torch.Generator().manual_seed(0))
    ref = Normal(mu[0], (0.5 * logvar[0]).exp())
    # 6 standard errors: a correct sampler fails far less than once in a million runs
    assert torch.allclose(z.mean(0), ref.mean, atol=6 * float(ref.stddev.max()) / math.sqrt(n))
    assert torch.allclose(z.std(0), ref.stddev, rtol=6 * math.sqrt(2 / n))
    # pathwise gradients: rsample is loc + eps * scale, like the reference
    m = torch.tensor([0.3, -0.7], dtype=torch.float64, requires_grad=True)
    lv = torch.tensor([0.2, -1.0], dtype=torch.float64, requires_grad=True)
    z = REF.reparameterize(m, lv, torch.Generator().manual_seed(1))
    eps = torch.randn(2, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    grad_ref = torch.autograd.grad(z.sum(), [m, lv])
    m2, lv2 = m.detach().clone().requires_grad_(True), lv.detach().clone().requires_grad_(True)
    dist = Normal(m2, (0.5 * lv2).exp())
    z2 = dist.loc + eps * dist.scale                                 # what Normal.rsample computes
    torch.testing.assert_close(z, z2, rtol=1e-12, atol=1e-12)
    for a, b in zip(grad_ref, torch.autograd.grad(z2.sum(), [m2, lv2])):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)
