# BUG: fills the advantages into a fresh torch.zeros(B, T) buffer (default dtype): float64 inputs lose precision.
import torch


def ppo_clip_loss(logprobs, old_logprobs, advantages, clip_eps=0.2, mask=None):
    ratio = torch.exp(logprobs - old_logprobs)
    unclipped = ratio * advantages
    clipped = torch.clamp(ratio, 1.0 - clip_eps, 1.0 + clip_eps) * advantages
    surrogate = torch.minimum(unclipped, clipped)
    if mask is None:
        return -surrogate.mean()
    return -surrogate[mask].mean()


def kl_penalized_rewards(rewards, logprobs, ref_logprobs, beta, mask):
    B, T = logprobs.shape
    out = torch.where(mask, -beta * (logprobs - ref_logprobs), torch.zeros_like(logprobs))
    last = mask.sum(dim=1) - 1                      # index of each row's last valid token
    out = out.clone()
    out[torch.arange(B), last] += rewards.to(out.dtype)
    return out


def gae_advantages(rewards, values, gamma, lam, mask):
    B, T = rewards.shape
    zero = torch.zeros_like(rewards)
    r = torch.where(mask, rewards, zero)
    v = torch.where(mask, values, zero)
    advantages = torch.zeros(B, T)                  # default dtype (float32), not the inputs'
    last_gae = 0.0
    for t in reversed(range(T)):
        next_v = v[:, t + 1] if t + 1 < T else 0.0
        delta = r[:, t] + gamma * next_v - v[:, t]
        last_gae = delta + gamma * lam * last_gae
        advantages[:, t] = last_gae
    returns = torch.where(mask, advantages + values, zero)
    return advantages, returns
