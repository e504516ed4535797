# CORRECT, written differently: a hand-written stable softmax, and sampling by the Gumbel-max trick
# (argmax of logits / T plus Gumbel noise) instead of torch.multinomial.
import torch


def temperature_probs(logits, temperature):
    if temperature < 0:
        raise ValueError(f"negative temperature {temperature}")
    if temperature == 0:
        first_max = logits == logits.amax(-1, keepdim=True)
        # keep only the first maximal entry: cumsum counts maxima seen so far
        first_max = first_max & (first_max.cumsum(-1) == 1)
        return first_max.to(logits.dtype)
    z = logits / temperature
    z = z - z.amax(-1, keepdim=True)
    e = z.exp()
    return e / e.sum(-1, keepdim=True)


def sample_next_token(logits, temperature=1.0, generator=None):
    if temperature < 0:
        raise ValueError(f"negative temperature {temperature}")
    if temperature == 0:
        return torch.argmax(logits, dim=-1)
    u = torch.rand(logits.shape, generator=generator, dtype=torch.float64)
    u = u.clamp_min(torch.finfo(torch.float64).tiny)
    gumbel = -torch.log(-torch.log(u))
    return torch.argmax(logits.double() / temperature + gumbel, dim=-1)
