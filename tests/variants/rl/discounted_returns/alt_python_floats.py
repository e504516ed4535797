# CORRECT, written differently: plain Python floats in double precision, one list per stream; torch only at the ends.
import math

import torch


def discounted_returns(rewards, dones, gamma, bootstrap_value=None):
    T = rewards.shape[-1]
    r = rewards.double().reshape(-1, T).tolist()
    d = dones.reshape(-1, T).tolist()
    if bootstrap_value is None:
        boots = [0.0] * len(r)
    else:
        boots = torch.as_tensor(bootstrap_value, dtype=torch.float64).expand(rewards.shape[:-1]).reshape(-1).tolist()
    rows = []
    for rr, dd, g in zip(r, d, boots):
        row = [0.0] * T
        for t in range(T - 1, -1, -1):
            g = rr[t] + (0.0 if dd[t] else gamma * g)
            row[t] = g
        rows.append(row)
    return torch.tensor(rows, dtype=torch.float64).reshape(rewards.shape).to(rewards.dtype)


def normalize_returns(returns, eps=1e-8):
    v = returns.double().reshape(-1).tolist()
    mean = math.fsum(v) / len(v)
    std = math.sqrt(math.fsum((x - mean) ** 2 for x in v) / (len(v) - 1)) if len(v) > 1 else 0.0
    return ((returns.double() - mean) / (std + eps)).to(returns.dtype)
