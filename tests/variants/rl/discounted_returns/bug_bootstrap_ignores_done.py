# BUG: always adds gamma * bootstrap_value to the last step, even when that step ended its episode.
import torch


def discounted_returns(rewards, dones, gamma, bootstrap_value=None):
    not_done = 1.0 - dones.to(rewards.dtype)
    out = torch.zeros_like(rewards)
    g = torch.zeros(rewards.shape[:-1], dtype=rewards.dtype)
    T = rewards.shape[-1]
    for t in reversed(range(T)):
        if t == T - 1:
            boot = 0.0 if bootstrap_value is None else torch.as_tensor(bootstrap_value, dtype=rewards.dtype)
            g = rewards[..., t] + gamma * boot
        else:
            g = rewards[..., t] + gamma * not_done[..., t] * g
        out[..., t] = g
    return out


def normalize_returns(returns, eps=1e-8):
    c = returns - returns.mean()
    if returns.numel() < 2:
        return c
    return c / (c.pow(2).sum() / (returns.numel() - 1)).sqrt().add(eps)

