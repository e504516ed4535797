# BUG: accumulates forwards in time, giving the discounted sum of past rewards instead of future ones.
import torch


def discounted_returns(rewards, dones, gamma, bootstrap_value=None):
    not_done = 1.0 - dones.to(rewards.dtype)
    g = torch.zeros(rewards.shape[:-1], dtype=rewards.dtype)
    out = torch.zeros_like(rewards)
    for t in range(rewards.shape[-1]):
        g = rewards[..., t] + gamma * g
        out[..., t] = g
        g = g * not_done[..., t]
    if bootstrap_value is not None:
        out[..., -1] += gamma * not_done[..., -1] * torch.as_tensor(bootstrap_value, dtype=rewards.dtype)
    return out


def normalize_returns(returns, eps=1e-8):
    c = returns - returns.mean()
    if returns.numel() < 2:
        return c
    return c / (c.pow(2).sum() / (returns.numel() - 1)).sqrt().add(eps)

