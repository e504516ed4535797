# BUG: adds the entropy to the loss (entropy penalty) instead of subtracting it (entropy bonus).
import torch


def log_probs_from_logits(logits, actions):
    log_p = torch.log_softmax(logits, dim=-1)
    return log_p.gather(-1, actions.long().unsqueeze(-1)).squeeze(-1)


def policy_entropy(logits):
    log_p = torch.log_softmax(logits, dim=-1)
    p = log_p.exp()
    return -(p * log_p.masked_fill(log_p == float("-inf"), 0.0)).sum(-1)


def reinforce_loss(logits, actions, returns, baseline=None, *, normalize_advantages=False, entropy_coef=0.0,
                   eps=1e-8):
    adv = returns.detach().to(logits.dtype)
    if baseline is not None:
        if isinstance(baseline, torch.Tensor):
            baseline = baseline.detach()
        adv = adv - baseline
    if normalize_advantages:
        adv = adv - adv.mean()
        if adv.numel() > 1:
            adv = adv / (adv.std() + eps)
    log_p = log_probs_from_logits(logits, actions)
    loss = -(log_p * adv).mean()
    return loss + entropy_coef * policy_entropy(logits).mean()
