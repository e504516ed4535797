# BUG: variance as E[x^2] - E[x]^2: catastrophic cancellation in float32 when the returns sit on a large offset.
import torch


def discounted_returns(rewards, dones, gamma, bootstrap_value=None):
    not_done = 1.0 - dones.to(rewards.dtype)
    g = torch.zeros(rewards.shape[:-1], dtype=rewards.dtype)
    if bootstrap_value is not None:
        g = g + torch.as_tensor(bootstrap_value, dtype=rewards.dtype)
    out = []
    for t in reversed(range(rewards.shape[-1])):
        g = rewards[..., t] + gamma * not_done[..., t] * g
        out.append(g)
    return torch.stack(out[::-1], dim=-1)


def normalize_returns(returns, eps=1e-8):
    n = returns.numel()
    if n < 2:
        return returns - returns.mean()
    var = ((returns ** 2).mean() - returns.mean() ** 2) * n / (n - 1)
    return (returns - returns.mean()) / (var.sqrt() + eps)
