"""Hidden graders of fundamentals/vae_elbo: reparameterisation against the generator's draws on
random shapes and dtypes, its gradients (1 for mu, 0.5 sigma eps for logvar) and the global RNG
untouched; the analytic KL against torch.distributions on random (..., D) inputs and at extreme
log-variances; the negative ELBO against F.binary_cross_entropy_with_logits / Normal.log_prob
(images, soft targets, logits of +-100, beta-VAE weights), its gradients, an unknown likelihood,
and untouched inputs."""
import torch

from mlkata.checks import check, expect, expect_close, expect_equal, probe, visible_module

V = visible_module("fundamentals/vae_elbo")


@probe
def reparam_rng(sub, mu, logvar, seed):
    before = torch.get_rng_state()
    z = sub.reparameterize(mu, logvar, torch.Generator().manual_seed(seed))
    return {"z": z, "global_untouched": torch.equal(before, torch.get_rng_state()), "after": [mu, logvar]}


@probe
def unknown_likelihood(sub, x, mu, logvar):
    try:
        sub.negative_elbo(x, x, mu, logvar, likelihood="poisson")
    except ValueError:
        return "ValueError"
    return "nothing raised"


def latents(seed, shape, dtype=torch.float32, spread=1.0):
    g = torch.Generator().manual_seed(seed)
    mu = torch.randn(shape, generator=g, dtype=torch.float64).to(dtype)
    logvar = (torch.randn(shape, generator=g, dtype=torch.float64) * spread).to(dtype)
    return mu, logvar


@check("reparameterize on random (B, D) and (B, T, D) latents, float32 and float64, from the generator's draws",
       points=2)
def reparam_random(run):
    for i, (shape, dtype) in enumerate((((16, 8), torch.float32), ((4, 3, 5), torch.float64), ((1, 1), torch.float32))):
        mu, logvar = latents(i, shape, dtype)
        got = run(reparam_rng, mu, logvar, 100 + i)
        eps = torch.randn(shape, generator=torch.Generator().manual_seed(100 + i), dtype=dtype)
        expect_close(got["z"], mu + (0.5 * logvar).exp() * eps, "z = mu + exp(0.5 * logvar) * eps, eps = torch.randn("
                     "mu.shape, generator=generator, dtype=mu.dtype) drawn once", rtol=1e-5, atol=1e-6,
                     check_dtype=True, what=f"z ({list(shape)}, {dtype})")
        expect(got["global_untouched"], "draw eps from the generator you are given (torch.randn_like ignores it)",
               "torch's global RNG state changed during reparameterize")
        for name, before, after in zip(("mu", "logvar"), (mu, logvar), got["after"]):
            expect_equal(after, before, "reparameterize does not modify its inputs", what=f"{name} after the call")


@check("gradients flow through z: d z / d mu = 1 and d z / d logvar = 0.5 * exp(0.5 * logvar) * eps")
def reparam_grads(run):
    mu, logvar = latents(10, (6, 4), torch.float64)
    w = torch.randn(6, 4, generator=torch.Generator().manual_seed(11), dtype=torch.float64)
    got = run(V.reparam, mu, logvar, 12, w)
    eps = torch.randn(6, 4, generator=torch.Generator().manual_seed(12), dtype=torch.float64)
    expect(got["grads"] is not None, "z must stay differentiable in mu and logvar (no detach, no sampling without the "
           "reparameterisation trick)", "your z does not require grad")
    expect_close(got["grads"][0], w, "d z / d mu = 1", rtol=1e-10, what="d sum(w z) / d mu")
    expect_close(got["grads"][1], w * 0.5 * (0.5 * logvar).exp() * eps, "d z / d logvar = 0.5 * exp(0.5 * logvar) * "
                 "eps", rtol=1e-10, what="d sum(w z) / d logvar")


@check("gaussian_kl agrees with torch.distributions on random (B, D) and (B, T, D) inputs", points=2)
def kl_random(run):
    for i, (shape, dtype) in enumerate((((32, 16), torch.float32), ((3, 4, 6), torch.float64), ((5, 1), torch.float32))):
        mu, logvar = latents(20 + i, shape, dtype, spread=2.0)
        got = run(V.kl, mu, logvar)
        expect_close(got["kl"], V.kl_oracle(mu, logvar), "KL = 0.5 * sum over the LAST dim of (exp(logvar) + mu^2 - 1 "
                     "- logvar): one value per leading index", rtol=1e-5, atol=1e-5, check_dtype=True,
                     what=f"gaussian_kl ({list(shape)}, {dtype})")


@check("gaussian_kl is exactly 0 at the prior and finite for logvar = -30 and +30")
def kl_edges(run):
    mu = torch.tensor([[0.0, 0.0, 0.0], [1.0, 0.0, -2.0], [0.0, 0.0, 0.0]], dtype=torch.float64)
    logvar = torch.tensor([[0.0, 0.0, 0.0], [-30.0, 30.0, 0.0], [-30.0, -30.0, 30.0]], dtype=torch.float64)
    got = run(V.kl, mu, logvar)["kl"]
    expect_close(got, V.kl_oracle(mu, logvar), "KL = 0.5 * sum_d (exp(logvar) + mu^2 - 1 - logvar): 0 at mu = 0, "
                 "logvar = 0, finite for any finite logvar", rtol=1e-12, atol=1e-12, what="gaussian_kl")


@check("negative_elbo (Bernoulli) on random image batches with hard and soft targets, beta = 1 and 4", points=2)
def bernoulli_random(run):
    for i, (shape, soft, beta) in enumerate((((8, 1, 6, 6), False, 1.0), ((5, 3, 4, 4), True, 4.0), ((3, 20), True, 1.0))):
        g = torch.Generator().manual_seed(30 + i)
        x = torch.rand(shape, generator=g)
        x = x if soft else (x > 0.5).float()
        recon_x = torch.randn(shape, generator=g) * 3
        mu, logvar = latents(40 + i, (shape[0], 4))
        V.expect_elbo(run(V.elbo, x, recon_x, mu, logvar, beta=beta), x, recon_x, mu, logvar,
                      f"Bernoulli, x {list(shape)}, {'soft' if soft else 'binary'} targets", beta=beta, rtol=1e-5,
                      atol=1e-4)


@check("negative_elbo (Bernoulli) with logits of +-100 and targets 0 and 1: finite and exact")
def bernoulli_extreme(run):
    x = torch.tensor([[1.0, 0.0, 1.0, 0.0], [0.0, 1.0, 0.5, 1.0]])
    recon_x = torch.tensor([[100.0, -100.0, -100.0, 100.0], [-80.0, 90.0, 100.0, -100.0]])
    mu, logvar = torch.zeros(2, 2), torch.zeros(2, 2)
    V.expect_elbo(run(V.elbo, x, recon_x, mu, logvar), x, recon_x, mu, logvar, "logits of +-100 (a wrong prediction "
                  "costs ~100, not inf)", rtol=1e-6, atol=1e-4)


@check("negative_elbo (Gaussian) on random batches, float64, beta = 0.5")
def gaussian_random(run):
    for i, shape in enumerate(((6, 10), (4, 2, 3, 3))):
        g = torch.Generator().manual_seed(50 + i)
        x, recon_x = torch.randn(shape, generator=g, dtype=torch.float64), torch.randn(shape, generator=g,
                                                                                        dtype=torch.float64)
        mu, logvar = latents(60 + i, (shape[0], 3), torch.float64)
        V.expect_elbo(run(V.elbo, x, recon_x, mu, logvar, likelihood="gaussian", beta=0.5), x, recon_x, mu, logvar,
                      f"Gaussian, x {list(shape)}", likelihood="gaussian", beta=0.5, rtol=1e-10, atol=1e-10)


@check("the loss is differentiable: its gradients in recon_x, mu and logvar equal autograd's of the formula")
def elbo_grads(run):
    g = torch.Generator().manual_seed(70)
    x = torch.rand(4, 9, generator=g, dtype=torch.float64)
    recon_x = torch.randn(4, 9, generator=g, dtype=torch.float64)
    mu, logvar = latents(71, (4, 3), torch.float64)
    for likelihood in ("bernoulli", "gaussian"):
        got = run(V.elbo, x, recon_x, mu, logvar, True, likelihood=likelihood, beta=2.0)
        leaves = [t.clone().requires_grad_(True) for t in (recon_x, mu, logvar)]
        want = torch.autograd.grad(V.elbo_oracle(x, *leaves, likelihood, 2.0)[0], leaves)
        expect(got["grads"] is not None, "keep the loss a tensor connected to its inputs (no .item(), no detach)",
               f"{likelihood}: your loss does not require grad")
        for name, g_, w_ in zip(("recon_x", "mu", "logvar"), got["grads"], want):
            expect_close(g_, w_, "loss = recon + beta * kl, differentiable in every input", rtol=1e-8, atol=1e-10,
                         what=f"d loss / d {name} ({likelihood})")


@check("an unknown likelihood raises ValueError; gaussian_kl modifies nothing")
def errors_and_inputs(run):
    mu, logvar = latents(80, (2, 3))
    expect_equal(run(unknown_likelihood, torch.rand(2, 4), mu, logvar), "ValueError",
                 "negative_elbo raises ValueError for a likelihood other than 'bernoulli' and 'gaussian'",
                 what="negative_elbo(..., likelihood='poisson')")
    got = run(V.kl, mu, logvar)
    expect_close(got["kl"], V.kl_oracle(mu, logvar), "KL = 0.5 * sum_d (exp(logvar) + mu^2 - 1 - logvar)",
                 what="gaussian_kl")
    for name, before, after in zip(("mu", "logvar"), (mu, logvar), got["after"]):
        expect_equal(after, before, "gaussian_kl does not modify its inputs", what=f"{name} after the call")
