# BUG: closed form cumsum(gamma^k r_k) / gamma^t per episode: gamma^t underflows on long horizons (inf/NaN).
import torch


def _one_stream(r, d, gamma, boot):
    T = r.shape[0]
    out = torch.empty_like(r)
    ends = [t for t in range(T) if d[t]]
    start = 0
    for end in ends + ([T - 1] if not ends or ends[-1] != T - 1 else []):
        seg = r[start:end + 1].clone()
        if not d[end] and boot is not None:
            seg[-1] = seg[-1] + gamma * boot
        k = torch.arange(seg.shape[0], dtype=r.dtype)
        powers = torch.as_tensor(gamma, dtype=r.dtype) ** k
        tail = torch.flip(torch.cumsum(torch.flip(seg * powers, [0]), 0), [0])
        out[start:end + 1] = tail / powers
        start = end + 1
    return out


def discounted_returns(rewards, dones, gamma, bootstrap_value=None):
    d = dones.bool()
    if rewards.dim() == 1:
        b = None if bootstrap_value is None else float(bootstrap_value)
        return _one_stream(rewards, d, gamma, b)
    boots = [None] * rewards.shape[0] if bootstrap_value is None else         torch.as_tensor(bootstrap_value, dtype=rewards.dtype).expand(rewards.shape[0]).tolist()
    return torch.stack([_one_stream(rewards[i], d[i], gamma, boots[i]) for i in range(rewards.shape[0])])


def normalize_returns(returns, eps=1e-8):
    c = returns - returns.mean()
    if returns.numel() < 2:
        return c
    return c / (c.pow(2).sum() / (returns.numel() - 1)).sqrt().add(eps)

