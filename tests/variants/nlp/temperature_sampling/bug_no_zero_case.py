# BUG: no special case for T=0 and no check for T<0: logits / 0 gives inf and NaN probabilities
import torch


def temperature_probs(logits, temperature):
    return torch.softmax(logits / temperature, dim=-1)


def sample_next_token(logits, temperature=1.0, generator=None):
    probs = temperature_probs(logits, temperature)
    flat = probs.reshape(-1, probs.size(-1))
    return torch.multinomial(flat, 1, generator=generator).reshape(logits.shape[:-1])
