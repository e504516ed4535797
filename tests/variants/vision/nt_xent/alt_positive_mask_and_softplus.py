# CORRECT, written differently: F.normalize, a boolean positive mask instead of gathered targets, the denominator by masked logsumexp.
import torch
import torch.nn.functional as F


def nt_xent_logits(z1, z2, temperature=0.5):
    n = z1.shape[0]
    z = F.normalize(torch.cat((z1, z2), dim=0), dim=-1, eps=1e-12)
    sim = torch.einsum("id,jd->ij", z, z) / temperature
    sim = torch.where(torch.eye(2 * n, dtype=torch.bool), torch.full_like(sim, -float("inf")), sim)
    targets = (torch.arange(2 * n) + n) % (2 * n)
    return sim, targets


def nt_xent_loss(z1, z2, temperature=0.5):
    sim, targets = nt_xent_logits(z1, z2, temperature)
    positive_mask = torch.zeros_like(sim, dtype=torch.bool)
    positive_mask[torch.arange(len(targets)), targets] = True
    positive = sim.masked_select(positive_mask)
    return (sim.logsumexp(dim=-1) - positive).sum() / len(targets)
