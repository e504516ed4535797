# BUG: applies the KL penalty on padded positions too (only the score placement looks at the mask).
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
    out = -beta * (logprobs - ref_logprobs)
    last = mask.sum(dim=1) - 1                      # index of each row's last valid token
    out = out.clone()
    out[torch.arange(B), last] += rewards.to(out.dtype)
    return out


def gae_advantages(rewards, values, gamma, lam, mask):
    B, T = rewards.shape
    zero = torch.zeros_like(rewards)
    r = torch.where(mask, rewards, zero)
    v = torch.where(mask, values, zero)
    last_gae = zero[:, 0]
    reversed_adv = []
    for t in reversed(range(T)):
        next_v = v[:, t + 1] if t + 1 < T else zero[:, 0]
        delta = r[:, t] + gamma * next_v - v[:, t]
        last_gae = delta + gamma * lam * last_gae
        reversed_adv.append(last_gae)
    advantages = torch.stack(reversed_adv[::-1], dim=1)
    returns = torch.where(mask, advantages + values, zero)
    return advantages, returns
