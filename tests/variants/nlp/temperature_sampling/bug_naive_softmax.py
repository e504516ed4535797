# BUG: softmax written as exp(x / T) / sum(exp(x / T)) without subtracting the maximum: overflows to NaN
import torch


def temperature_probs(logits, temperature):
    if temperature < 0:
        raise ValueError("temperature must be >= 0")
    if temperature == 0:
        return torch.zeros_like(logits).scatter(-1, logits.argmax(-1, keepdim=True), 1.0)
    e = torch.exp(logits / temperature)
    return e / e.sum(dim=-1, keepdim=True)


def sample_next_token(logits, temperature=1.0, generator=None):
    if temperature < 0:
        raise ValueError("temperature must be >= 0")
    if temperature == 0:
        return logits.argmax(-1)
    probs = temperature_probs(logits, temperature)
    flat = probs.reshape(-1, probs.size(-1))
    return torch.multinomial(flat, 1, generator=generator).reshape(logits.shape[:-1])
