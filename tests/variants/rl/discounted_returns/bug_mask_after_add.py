# BUG: applies the done mask after adding the reward, so G_t is 0 (not r_t) on the last step of an episode.
import torch


def discounted_returns(rewards, dones, gamma, bootstrap_value=None):
    not_done = 1.0 - dones.to(rewards.dtype)
    g = torch.zeros(rewards.shape[:-1], dtype=rewards.dtype)
    if bootstrap_value is not None:
        g = g + torch.as_tensor(bootstrap_value, dtype=rewards.dtype)
    out = torch.zeros_like(rewards)
    for t in reversed(range(rewards.shape[-1])):
        g = (rewards[..., t] + gamma * g) * not_done[..., t]
        out[..., t] = g
    return out


def normalize_returns(returns, eps=1e-8):
    c = returns - returns.mean()
    if returns.numel() < 2:
        return c
    return c / (c.pow(2).sum() / (returns.numel() - 1)).sqrt().add(eps)

