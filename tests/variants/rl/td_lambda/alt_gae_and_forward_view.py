# CORRECT, written differently: lambda-returns through GAE's delta recursion (A_t = delta_t + gamma lam A_{t+1},
# G = A + V); offline TD(lambda) as the forward view; online traces kept in a dict of visited states.
import torch


def lambda_returns(rewards, values, dones, gamma, lam, bootstrap_value=None):
    with torch.no_grad():
        T = rewards.shape[-1]
        keep = (~dones.bool()).to(rewards.dtype)
        last = torch.as_tensor(0.0 if bootstrap_value is None else bootstrap_value, dtype=rewards.dtype)
        last = last.expand(rewards.shape[:-1]).unsqueeze(-1)
        v = values.to(rewards.dtype)
        v_next = torch.cat([v[..., 1:], last], dim=-1)                         # (..., T) V(s_{t+1})
        delta = rewards + gamma * keep * v_next - v
        adv = torch.zeros_like(rewards)
        a = torch.zeros(rewards.shape[:-1], dtype=rewards.dtype)
        for t in reversed(range(T)):
            a = delta[..., t] + gamma * lam * keep[..., t] * a
            adv[..., t] = a
        return adv + v


def td_lambda_episode(V, states, rewards, gamma, lam, alpha, terminal=True, online=True):
    s = [int(x) for x in states]
    T = len(s) - 1
    if not online:                                                              # forward view, exactly equal
        vals = V[torch.tensor(s[:-1])]
        boot = 0.0 if terminal else float(V[s[-1]])
        G = lambda_returns(rewards.to(V.dtype), vals, torch.zeros(T, dtype=torch.bool), gamma, lam, boot)
        return V.clone().index_add_(0, torch.tensor(s[:-1]), alpha * (G - vals))
    table = V.tolist()
    traces = {}
    for t in range(T):
        v_next = 0.0 if terminal and t == T - 1 else table[s[t + 1]]
        delta = float(rewards[t]) + gamma * v_next - table[s[t]]
        traces = {k: gamma * lam * e for k, e in traces.items()}
        traces[s[t]] = traces.get(s[t], 0.0) + 1.0
        for k, e in traces.items():
            table[k] += alpha * delta * e
    return torch.tensor(table, dtype=V.dtype)
