# BUG: accumulates the returns in place in the rewards tensor (right values, but the caller's rewards are overwritten).
import torch


def discounted_returns(rewards, dones, gamma, bootstrap_value=None):
    not_done = 1.0 - dones.to(rewards.dtype)
    T = rewards.shape[-1]
    if bootstrap_value is not None:
        rewards[..., T - 1] += gamma * not_done[..., T - 1] * torch.as_tensor(bootstrap_value, dtype=rewards.dtype)
    for t in reversed(range(T - 1)):
        rewards[..., t] += gamma * not_done[..., t] * rewards[..., t + 1]
    return rewards


def normalize_returns(returns, eps=1e-8):
    c = returns - returns.mean()
    if returns.numel() < 2:
        return c
    return c / (c.pow(2).sum() / (returns.numel() - 1)).sqrt().add(eps)

