# CORRECT, written differently: the posterior mean in Ho et al.'s epsilon form,
# (x_t - beta_t / sqrt(1 - abar_t) * eps) / sqrt(alpha_t); the cosine schedule vectorised with torch;
# per-sample abar via view + expand; the schedule kept in float64 tensors throughout.
import math

import torch


def beta_schedule(num_steps, kind="linear", beta_start=1e-4, beta_end=0.02):
    if kind == "linear":
        if num_steps == 1:
            return torch.tensor([beta_start], dtype=torch.float64)
        step = (beta_end - beta_start) / (num_steps - 1)
        return beta_start + step * torch.arange(num_steps, dtype=torch.float64)
    if kind == "cosine":
        s = torch.arange(num_steps + 1, dtype=torch.float64) / num_steps
        f = torch.cos((s + 0.008) / 1.008 * math.pi / 2) ** 2
        return torch.clamp(1 - f[1:] / f[:-1], max=0.999)
    raise ValueError(kind)


def alphas_cumprod(betas):
    out = torch.empty_like(betas)
    acc = torch.ones((), dtype=betas.dtype)
    for i in range(betas.shape[0]):
        acc = acc * (1 - betas[i])
        out[i] = acc
    return out


def q_sample(x0, t, noise, abar):
    shape = (x0.shape[0],) + (1,) * (x0.dim() - 1)
    a = abar.index_select(0, t).view(shape).expand_as(x0).to(x0.dtype)
    return torch.sqrt(a) * x0 + torch.sqrt(1 - a) * noise


def training_loss(eps_model, x0, abar, generator):
    t = torch.randint(abar.shape[0], (x0.shape[0],), generator=generator)
    eps = torch.randn(x0.shape, generator=generator, dtype=x0.dtype)
    diff = eps_model(q_sample(x0, t, eps, abar), t) - eps
    return (diff * diff).sum() / diff.numel()


def ddpm_step(eps_pred, t, x_t, betas, generator):
    abar = torch.cumprod(1 - betas, 0)
    beta = betas[t]
    sqrt_one_minus = torch.sqrt(1 - abar[t])
    x0_hat = ((x_t - sqrt_one_minus * eps_pred) / torch.sqrt(abar[t])).to(x_t.dtype)
    mean = ((x_t - beta / sqrt_one_minus * eps_pred) / torch.sqrt(1 - beta)).to(x_t.dtype)
    if t > 0:
        std = torch.sqrt((1 - abar[t - 1]) / (1 - abar[t]) * beta)
        mean = mean + (std * torch.randn(x_t.shape, generator=generator, dtype=x_t.dtype)).to(x_t.dtype)
    return mean, x0_hat
