# BUG: swaps the weights: lambda on V(s_{t+1}) and 1 - lambda on G_{t+1}.
import torch


def lambda_returns(rewards, values, dones, gamma, lam, bootstrap_value=None):
    T = rewards.shape[-1]
    v = values.detach().to(rewards.dtype)
    keep = 1.0 - dones.to(rewards.dtype)
    boot = torch.zeros(rewards.shape[:-1], dtype=rewards.dtype)
    if bootstrap_value is not None:
        boot = boot + torch.as_tensor(bootstrap_value, dtype=rewards.dtype)
    g, v_next = boot, boot
    cols = []
    for t in range(T - 1, -1, -1):
        g = rewards[..., t] + gamma * keep[..., t] * (lam * v_next + (1 - lam) * g)
        cols.append(g)
        v_next = v[..., t]
    return torch.stack(cols[::-1], dim=-1)


def td_lambda_episode(V, states, rewards, gamma, lam, alpha, terminal=True, online=True):
    V0 = V.clone()
    W = V.clone()
    inc = torch.zeros_like(V)
    z = torch.zeros_like(V)
    T = len(rewards)
    for t in range(T):
        s, s2 = int(states[t]), int(states[t + 1])
        table = W if online else V0
        v2 = 0.0 if terminal and t == T - 1 else table[s2].item()
        delta = rewards[t].item() + gamma * v2 - table[s].item()
        z *= gamma * lam
        z[s] += 1.0
        if online:
            W += alpha * delta * z
        else:
            inc += alpha * delta * z
    return W if online else V0 + inc
