# BUG: reads the done flag one step late (done_{t+1} instead of done_t), so returns leak across episode boundaries.
import torch


def discounted_returns(rewards, dones, gamma, bootstrap_value=None):
    T = rewards.shape[-1]
    not_done = 1.0 - dones.to(rewards.dtype)
    g = torch.zeros(rewards.shape[:-1], dtype=rewards.dtype)
    if bootstrap_value is not None:
        g = g + torch.as_tensor(bootstrap_value, dtype=rewards.dtype) * not_done[..., -1]
    out = torch.zeros_like(rewards)
    for t in reversed(range(T)):
        mask = not_done[..., t + 1] if t + 1 < T else 1.0
        g = rewards[..., t] + gamma * mask * g
        out[..., t] = g
    return out


def normalize_returns(returns, eps=1e-8):
    c = returns - returns.mean()
    if returns.numel() < 2:
        return c
    return c / (c.pow(2).sum() / (returns.numel() - 1)).sqrt().add(eps)

