# BUG: flattens a (B, T) batch into one long stream, so row i's last step bootstraps from row i+1's returns.
import torch


def discounted_returns(rewards, dones, gamma, bootstrap_value=None):
    shape = rewards.shape
    r = rewards.reshape(-1)
    not_done = 1.0 - dones.to(rewards.dtype).reshape(-1)
    g = torch.zeros((), dtype=rewards.dtype)
    if bootstrap_value is not None:
        b = torch.as_tensor(bootstrap_value, dtype=rewards.dtype)
        g = g + (b.reshape(-1)[-1] if b.dim() else b)
    out = torch.zeros_like(r)
    for t in reversed(range(r.shape[0])):
        g = r[t] + gamma * not_done[t] * g
        out[t] = g
    return out.reshape(shape)


def normalize_returns(returns, eps=1e-8):
    c = returns - returns.mean()
    if returns.numel() < 2:
        return c
    return c / (c.pow(2).sum() / (returns.numel() - 1)).sqrt().add(eps)

