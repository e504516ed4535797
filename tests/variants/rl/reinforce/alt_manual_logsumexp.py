# CORRECT, written differently: logsumexp by hand with the max trick, selection by a one-hot product, entropy as
# logsumexp(z) - sum p z, normalisation with torch.var_mean.
import torch


def _lse(z):
    m = z.max(dim=-1, keepdim=True).values                              # finite: one finite logit per row
    return (m + (z - m).exp().sum(-1, keepdim=True).log()).squeeze(-1)


def log_probs_from_logits(logits, actions):
    onehot = torch.nn.functional.one_hot(actions.long(), logits.shape[-1]).bool()
    picked = logits.masked_fill(~onehot, 0.0).sum(-1)                  # the taken action's logit (finite)
    return picked - _lse(logits)


def policy_entropy(logits):
    p = torch.softmax(logits, dim=-1)
    z = logits.masked_fill(torch.isneginf(logits), 0.0)               # p = 0 there anyway
    return _lse(logits) - (p * z).sum(-1)


def reinforce_loss(logits, actions, returns, baseline=None, *, normalize_advantages=False, entropy_coef=0.0,
                   eps=1e-8):
    with torch.no_grad():
        adv = returns.to(logits.dtype) - (0.0 if baseline is None else torch.as_tensor(baseline).to(logits.dtype))
        adv = adv.expand(returns.shape).clone()
        if normalize_advantages:
            if adv.numel() == 1:
                adv.zero_()
            else:
                var, mean = torch.var_mean(adv)
                adv = (adv - mean) / (var.sqrt() + eps)
    score = (log_probs_from_logits(logits, actions) * adv).mean()
    bonus = policy_entropy(logits).mean() if entropy_coef else 0.0
    return -score - entropy_coef * bonus
