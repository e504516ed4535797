"""Visible checks: a 5-step linear schedule and its cumulative product, the forward process on a
tiny batch, and one reverse step at t = 0 (no noise) and at t = 2 (with the generator's noise)."""
import math

import torch

from mlkata.checks import Fail, check, describe, expect, expect_close, expect_tensor, probe


@probe
def schedule(sub, T, kind=None, **kwargs):
    """beta_schedule(T, kind, **kwargs) (without ``kind``, its default, when None) and its alphas_cumprod."""
    betas = sub.beta_schedule(T, **kwargs) if kind is None else sub.beta_schedule(T, kind, **kwargs)
    return {"betas": betas, "abar": sub.alphas_cumprod(betas) if isinstance(betas, torch.Tensor) else None}


@probe
def cumprod(sub, betas):
    return {"abar": sub.alphas_cumprod(betas), "betas_after": betas}


@probe
def noising(sub, x0, t, noise, abar):
    return {"x_t": sub.q_sample(x0, t, noise, abar), "after": [x0, t, noise, abar]}


@probe
def step(sub, eps_pred, t, x_t, betas, seed):
    """One ddpm_step with a fresh generator seeded ``seed``; also the generator's state afterwards."""
    g = torch.Generator().manual_seed(seed)
    out = sub.ddpm_step(eps_pred, t, x_t, betas, g)
    return {"out": out, "generator_state": g.get_state(), "after": [eps_pred, x_t, betas]}


def linear_oracle(T, start=1e-4, end=0.02):
    return torch.tensor([start + (end - start) * i / (T - 1) if T > 1 else start for i in range(T)],
                        dtype=torch.float64)


def cosine_oracle(T):
    f = [math.cos((i / T + 0.008) / 1.008 * math.pi / 2) ** 2 for i in range(T + 1)]
    return torch.tensor([min(1 - f[i + 1] / f[i], 0.999) for i in range(T)], dtype=torch.float64)


def step_oracle(eps_pred, t, x_t, betas, seed):
    """(x_prev, x0_hat, mean, std, z) of one reverse step, in float64, written in the x0-coefficient form."""
    abar = torch.cumprod(1 - betas.double(), 0)
    a_t = abar[t]
    a_prev = abar[t - 1] if t > 0 else torch.tensor(1.0, dtype=torch.float64)
    alpha_t = a_t / a_prev
    x_t64, eps64 = x_t.double(), eps_pred.double()
    x0_hat = (x_t64 - (1 - a_t).sqrt() * eps64) / a_t.sqrt()
    mean = (a_prev.sqrt() * (1 - alpha_t) / (1 - a_t)) * x0_hat + (alpha_t.sqrt() * (1 - a_prev) / (1 - a_t)) * x_t64
    if t == 0:
        return mean, x0_hat, mean, 0.0, None
    std = float(((1 - a_prev) / (1 - a_t) * (1 - alpha_t)).sqrt())
    z = torch.randn(x_t.shape, generator=torch.Generator().manual_seed(seed), dtype=x_t.dtype).double()
    return mean + std * z, x0_hat, mean, std, z


def pair(got, x_t, what):
    """Judge side: ``(x_prev, x0_hat)`` shaped and typed like x_t."""
    out = got["out"]
    rule = "ddpm_step returns (x_prev, x0_hat), both shaped like x_t and in its dtype"
    if not isinstance(out, (list, tuple)) or len(out) != 2:
        raise Fail(rule, f"{what}: expected a pair of tensors, your code returned {describe(out)}")
    for name, v in zip(("x_prev", "x0_hat"), out):
        expect_tensor(v, rule + f" ({name})", shape=x_t.shape, dtype=x_t.dtype)
    return out


def expect_step(got, eps_pred, t, x_t, betas, seed, what, rtol=1e-5, atol=1e-5):
    """Judge side: x0_hat, then (for t > 0) the std of the added noise, then x_prev."""
    x_prev, x0_hat = pair(got, x_t, what)
    want_prev, want_x0, mean, std, z = step_oracle(eps_pred, t, x_t, betas, seed)
    expect_close(x0_hat, want_x0, "x0_hat = (x_t - sqrt(1 - abar_t) * eps_pred) / sqrt(abar_t)", rtol=rtol, atol=atol,
                 what=f"x0_hat ({what})")
    if t > 0:
        # split what the learner returned into (posterior mean) + ratio * z + the rest: a wrong mean
        # shows in the rest, a wrong std in the ratio
        diff = x_prev.double() - mean
        ratio = float((diff * z).sum() / (z * z).sum())
        rest = (diff - ratio * z).abs().max()
        expect(float(rest) <= 1e-3 * (1 + float(mean.abs().max())),
               "the posterior mean is sqrt(abar_{t-1}) beta_t / (1 - abar_t) * x0_hat + sqrt(alpha_t) (1 - abar_{t-1}) "
               "/ (1 - abar_t) * x_t, with alpha_t = 1 - beta_t",
               f"{what}: apart from the noise, your x_prev differs from the posterior mean by up to {float(rest):.6g}")
        expect(abs(ratio - std) <= 1e-3 * std + 1e-6,
               "x_prev = posterior mean + sqrt(beta_tilde_t) * z, beta_tilde_t = (1 - abar_{t-1}) / (1 - abar_t) * "
               "beta_t, z = torch.randn(x_t.shape, generator=generator, dtype=x_t.dtype) drawn once",
               f"{what}: the noise you added is {ratio:.6g} * z, expected {std:.6g} * z")
    expect_close(x_prev, want_prev, "x_prev = sqrt(abar_{t-1}) beta_t / (1 - abar_t) * x0_hat + sqrt(alpha_t) "
                 "(1 - abar_{t-1}) / (1 - abar_t) * x_t (+ the noise for t > 0; abar_{-1} = 1)", rtol=rtol, atol=atol,
                 what=f"x_prev ({what})")


@check("a linear schedule with T = 5 from 1e-4 to 0.02, and its cumulative product")
def linear_five(run):
    got = run(schedule, 5, "linear")
    want = linear_oracle(5)
    expect_close(got["betas"], want, "linear: T values evenly spaced from beta_start to beta_end, both included "
                 "(float64)", rtol=1e-10, atol=1e-14, what="betas", check_dtype=True)
    expect_close(got["abar"], torch.cumprod(1 - want, 0), "abar_t = prod_{s <= t} (1 - beta_s)", rtol=1e-10,
                 what="alphas_cumprod")


@check("q_sample mixes x0 and noise with each sample's own abar_t")
def noising_small(run):
    abar = torch.tensor([0.9, 0.5, 0.1], dtype=torch.float64)
    x0 = torch.tensor([[1.0, 2.0], [1.0, 2.0], [-1.0, 0.0]])
    noise = torch.tensor([[0.5, -0.5], [0.5, -0.5], [1.0, 1.0]])
    t = torch.tensor([0, 2, 1])
    a = abar[t].float()[:, None]
    got = run(noising, x0, t, noise, abar)["x_t"]
    expect_close(got, a.sqrt() * x0 + (1 - a).sqrt() * noise, "x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) noise, "
                 "abar_t indexed by each sample's own t", what="x_t", check_dtype=True)


@check("ddpm_step at t = 0 returns the posterior mean, which is x0_hat, and adds no noise")
def step_t0(run):
    betas = linear_oracle(4, 0.1, 0.4)
    x_t = torch.tensor([[0.5, -1.0, 2.0]])
    eps = torch.tensor([[0.1, 0.2, -0.3]])
    expect_step(run(step, eps, 0, x_t, betas, 0), eps, 0, x_t, betas, 0, "t = 0")


@check("ddpm_step at t = 2: posterior mean plus sqrt(beta tilde) times the generator's noise")
def step_t2(run):
    betas = linear_oracle(4, 0.1, 0.4)
    g = torch.Generator().manual_seed(1)
    x_t, eps = torch.randn(2, 3, generator=g), torch.randn(2, 3, generator=g)
    expect_step(run(step, eps, 2, x_t, betas, 7), eps, 2, x_t, betas, 7, "t = 2")
