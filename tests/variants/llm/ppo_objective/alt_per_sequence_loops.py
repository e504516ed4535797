# CORRECT, written differently: the clipped loss via "where does clipping bind" masks instead of a
# min, a where-sum / count masked mean; rewards and GAE one sequence at a time over its length.
import torch


def ppo_clip_loss(logprobs, old_logprobs, advantages, clip_eps=0.2, mask=None):
    if mask is None:
        mask = torch.ones_like(logprobs, dtype=torch.bool)
    log_ratio = torch.where(mask, logprobs - old_logprobs, torch.zeros_like(logprobs))
    adv = torch.where(mask, advantages, torch.zeros_like(advantages))
    ratio = log_ratio.exp()
    # clipping binds only where it would otherwise help: A > 0 above 1 + eps, A < 0 below 1 - eps
    high = (adv > 0) & (ratio > 1 + clip_eps)
    low = (adv < 0) & (ratio < 1 - clip_eps)
    objective = torch.where(high, (1 + clip_eps) * adv, torch.where(low, (1 - clip_eps) * adv, ratio * adv))
    return -torch.where(mask, objective, torch.zeros_like(objective)).sum() / mask.sum()


def kl_penalized_rewards(rewards, logprobs, ref_logprobs, beta, mask):
    out = torch.zeros_like(logprobs)
    for i, length in enumerate(mask.sum(dim=1).tolist()):
        out[i, :length] = beta * (ref_logprobs[i, :length] - logprobs[i, :length])
        out[i, length - 1] = out[i, length - 1] + rewards[i]
    return out


def gae_advantages(rewards, values, gamma, lam, mask):
    advantages = torch.zeros_like(rewards)
    returns = torch.zeros_like(rewards)
    for i, length in enumerate(mask.sum(dim=1).tolist()):
        r, v = rewards[i, :length], values[i, :length]
        next_v = torch.cat([v[1:], v.new_zeros(1)])           # V after the last token is 0
        deltas = r + gamma * next_v - v
        running = deltas.new_zeros(())
        for t in range(length - 1, -1, -1):
            running = deltas[t] + gamma * lam * running
            advantages[i, t] = running
        returns[i, :length] = advantages[i, :length] + v
    return advantages, returns
