# CORRECT, written differently: TRL's max-of-negatives form of the clipped loss; the score placed
# with scatter_add at gather-style indices; GAE in closed form A = M @ delta, with the
# upper-triangular discount matrix M[t, k] = (gamma * lam) ** (k - t), no Python loop over time.
import torch


def ppo_clip_loss(logprobs, old_logprobs, advantages, clip_eps=0.2, mask=None):
    ratio = torch.exp(logprobs - old_logprobs)
    pg_losses = -advantages * ratio
    pg_losses2 = -advantages * ratio.clamp(1 - clip_eps, 1 + clip_eps)
    losses = torch.max(pg_losses, pg_losses2)
    if mask is not None:
        losses = losses.masked_select(mask)
    return losses.mean()


def kl_penalized_rewards(rewards, logprobs, ref_logprobs, beta, mask):
    kl = (logprobs - ref_logprobs).masked_fill(~mask, 0.0)
    last = (mask.long().sum(-1, keepdim=True) - 1)             # (B, 1)
    scores = rewards.to(logprobs.dtype).unsqueeze(-1)           # (B, 1)
    return (-beta * kl).masked_fill(~mask, 0.0).scatter_add(-1, last, scores)


def gae_advantages(rewards, values, gamma, lam, mask):
    B, T = rewards.shape
    r = rewards.masked_fill(~mask, 0.0)
    v = values.masked_fill(~mask, 0.0)
    next_v = torch.nn.functional.pad(v[:, 1:], (0, 1))         # (B, T), V after the end is 0
    delta = r + gamma * next_v - v                               # 0 on padding
    t = torch.arange(T, dtype=rewards.dtype)
    power = t[None, :] - t[:, None]                              # (T, T): k - t
    M = torch.where(power >= 0, (gamma * lam) ** power.clamp(min=0), torch.zeros_like(power))
    advantages = delta @ M.T                                     # (B, T): sum_k M[t, k] delta_k
    returns = (advantages + v).masked_fill(~mask, 0.0)
    return advantages, returns
