# BUG: divides the caller's logits in place (logits /= T), changing the tensor it was given
import torch


def temperature_probs(logits, temperature):
    if temperature < 0:
        raise ValueError("temperature must be >= 0")
    if temperature == 0:
        return torch.zeros_like(logits).scatter(-1, logits.argmax(-1, keepdim=True), 1.0)
    logits /= temperature
    return torch.softmax(logits, dim=-1)


def sample_next_token(logits, temperature=1.0, generator=None):
    if temperature < 0:
        raise ValueError("temperature must be >= 0")
    if temperature == 0:
        return logits.argmax(-1)
    probs = temperature_probs(logits, temperature)
    flat = probs.reshape(-1, probs.size(-1))
    return torch.multinomial(flat, 1, generator=generator).reshape(logits.shape[:-1])
