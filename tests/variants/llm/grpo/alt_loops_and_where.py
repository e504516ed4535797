# CORRECT, written differently: log-probs via logsumexp, advantages group by group, the surrogate with torch.where on the advantage's sign.
import torch


def completion_logps(logits, completion_ids, temperature=1.0):
    N, C = completion_ids.shape
    x = logits.narrow(1, logits.shape[1] - C - 1, C)
    x = (x.float() if x.dtype in (torch.float16, torch.bfloat16) else x) / temperature
    picked = torch.take_along_dim(x, completion_ids[..., None], dim=-1)[..., 0]
    return picked - torch.logsumexp(x, dim=-1)


def group_advantages(rewards, num_generations, scale="group"):
    if scale not in ("group", "batch", "none"):
        raise ValueError(scale)
    out = []
    for group in rewards.split(num_generations):
        centred = group - group.mean()
        if scale == "group":
            n = group.numel()
            std = (centred.pow(2).sum() / (n - 1)).sqrt()
            centred = centred / (std + 1e-4)
        out.append(centred)
    out = torch.cat(out)
    if scale == "batch":
        out = out / (rewards.std() + 1e-4)
    return out


def grpo_loss(logps, old_logps, ref_logps, advantages, completion_mask, epsilon=0.2, epsilon_high=None,
              beta=0.0, loss_type="grpo", max_completion_length=None):
    if loss_type not in {"grpo", "bnpo", "dr_grpo"}:
        raise ValueError(loss_type)
    hi = epsilon if epsilon_high is None else epsilon_high
    m = completion_mask.bool()
    A = advantages[:, None].expand_as(logps)
    ratio = (logps - old_logps).exp()
    # for A >= 0 the bound is min(rho, 1 + hi) * A; for A < 0 it is max(rho, 1 - eps) * A
    bound = torch.where(A >= 0, torch.clamp(ratio, max=1 + hi), torch.clamp(ratio, min=1 - epsilon)) * A
    per_token = -bound
    if beta:
        log_r = ref_logps - logps
        per_token = per_token + beta * (log_r.exp() - log_r - 1)
    per_token = torch.where(m, per_token, torch.zeros_like(per_token))
    counts = m.sum(-1)
    if loss_type == "grpo":
        loss = (per_token.sum(-1) / counts.clamp(min=1)).mean()
    elif loss_type == "bnpo":
        loss = per_token.sum() / max(int(counts.sum()), 1)
    else:
        loss = per_token.sum() / (logps.shape[0] * (max_completion_length or logps.shape[1]))
    with torch.no_grad():
        clipped = torch.where(A > 0, ratio > 1 + hi, torch.where(A < 0, ratio < 1 - epsilon, torch.zeros_like(m)))
        ratio_clipped = (clipped & m).sum() / max(int(counts.sum()), 1)
    return loss, ratio_clipped.to(logps.dtype)
