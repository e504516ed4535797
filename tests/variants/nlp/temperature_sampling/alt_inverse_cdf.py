# CORRECT, written differently: probabilities as normalised p ** (1 / T) in log space, and sampling by
# inverting the cumulative distribution with one uniform draw per row (torch.searchsorted), row by row.
import torch


def temperature_probs(logits, temperature):
    if temperature < 0:
        raise ValueError("temperature must not be negative")
    if temperature == 0:
        flat = logits.reshape(-1, logits.shape[-1])
        out = torch.zeros_like(flat)
        for i in range(flat.shape[0]):
            out[i, int(torch.argmax(flat[i]))] = 1.0
        return out.reshape(logits.shape)
    logp = torch.log_softmax(logits, dim=-1) / temperature    # log p ** (1 / T)
    return torch.exp(logp - torch.logsumexp(logp, dim=-1, keepdim=True))


def sample_next_token(logits, temperature=1.0, generator=None):
    if temperature < 0:
        raise ValueError("temperature must not be negative")
    if temperature == 0:
        return logits.argmax(dim=-1)
    probs = temperature_probs(logits, temperature).double()
    flat = probs.reshape(-1, probs.shape[-1])
    cdf = flat.cumsum(-1)
    u = torch.rand(flat.shape[0], 1, generator=generator, dtype=torch.float64) * cdf[:, -1:]
    ids = torch.searchsorted(cdf, u, right=True).squeeze(-1)
    # u can round up to the total: fall back to the last token of nonzero probability
    last = (flat > 0).cumsum(-1).argmax(-1)
    ids = torch.minimum(ids, last)
    return ids.reshape(logits.shape[:-1])
