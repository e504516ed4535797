# CORRECT, written differently: batched view (N, T), list of columns stacked at the end; torch.std / var_mean for normalisation.
import torch


def discounted_returns(rewards, dones, gamma, bootstrap_value=None):
    T = rewards.shape[-1]
    r = rewards.reshape(-1, T)                                         # (N, T)
    keep = (~dones.bool()).reshape(-1, T).to(rewards.dtype) * gamma    # (N, T) discount, 0 at episode ends
    g = torch.zeros(r.shape[0], dtype=rewards.dtype)
    if bootstrap_value is not None:
        g = torch.as_tensor(bootstrap_value, dtype=rewards.dtype).expand(rewards.shape[:-1]).reshape(-1).clone()
    cols = [None] * T
    for t in range(T - 1, -1, -1):
        g = torch.addcmul(r[:, t], keep[:, t], g)
        cols[t] = g
    return torch.stack(cols, dim=1).reshape(rewards.shape)


def normalize_returns(returns, eps=1e-8):
    if returns.numel() == 1:
        return torch.zeros_like(returns)
    var, mean = torch.var_mean(returns)
    return (returns - mean) / (var.sqrt() + eps)
