# CORRECT, written differently: sigma via sqrt(exp(logvar)); the KL in the textbook's
# -0.5 * sum(1 + logvar - mu^2 - exp(logvar)) form; the Bernoulli NLL with torch's log-sigmoid,
# -(x * logsigmoid(l) + (1 - x) * logsigmoid(-l)); per-example sums by flatten(1).
import math

import torch


def reparameterize(mu, logvar, generator):
    noise = torch.randn(mu.size(), dtype=mu.dtype, generator=generator)
    return noise * torch.sqrt(torch.exp(logvar)) + mu


def gaussian_kl(mu, logvar):
    return -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp(), dim=-1)


def negative_elbo(x, recon_x, mu, logvar, likelihood="bernoulli", beta=1.0):
    if likelihood == "bernoulli":
        logsig = torch.nn.functional.logsigmoid
        per_elem = -(x * logsig(recon_x) + (1 - x) * logsig(-recon_x))
    elif likelihood == "gaussian":
        per_elem = (x - recon_x).pow(2) / 2 + math.log(math.sqrt(2 * math.pi))
    else:
        raise ValueError(likelihood)
    recon = per_elem.flatten(1).sum(1).mean()
    kl = gaussian_kl(mu, logvar).mean()
    return recon + beta * kl, recon, kl
