# BUG: T=0 handled by clamping T to a tiny epsilon: ties share the mass and are sampled at random instead of argmax
import torch


def temperature_probs(logits, temperature):
    if temperature < 0:
        raise ValueError("temperature must be >= 0")
    return torch.softmax(logits / max(temperature, 1e-6), dim=-1)


def sample_next_token(logits, temperature=1.0, generator=None):
    if temperature < 0:
        raise ValueError("temperature must be >= 0")
    probs = temperature_probs(logits, temperature)
    flat = probs.reshape(-1, probs.size(-1))
    return torch.multinomial(flat, 1, generator=generator).reshape(logits.shape[:-1])
