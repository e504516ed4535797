# CORRECT, written differently: BCE as softplus(x) - t x, log p_t = -ce (binary targets as weights), softmax log-probs by logsumexp.
import torch
import torch.nn.functional as F


def sigmoid_focal_loss(logits, targets, alpha=0.25, gamma=2.0, reduction="none"):
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction)
    ce = F.softplus(logits) - targets * logits
    p = logits.sigmoid()
    one_minus_p_t = p + targets - 2 * p * targets          # = 1 - (p t + (1 - p)(1 - t))
    weight = 1.0 if alpha < 0 else (1 - alpha) + (2 * alpha - 1) * targets
    loss = weight * one_minus_p_t.pow(gamma) * ce
    return {"none": lambda: loss, "mean": loss.mean, "sum": loss.sum}[reduction]()


def softmax_focal_loss(logits, target, gamma=2.0, alpha=None, ignore_index=-100):
    keep = (target != ignore_index).nonzero().squeeze(1)
    x = logits.index_select(0, keep)
    y = target.index_select(0, keep)
    log_p = x.gather(1, y.unsqueeze(1)).squeeze(1) - torch.logsumexp(x, dim=1)
    w = torch.ones_like(log_p) if alpha is None else alpha.to(log_p.dtype).index_select(0, y)
    return (w * -log_p * (-torch.expm1(log_p)).pow(gamma)).sum() / len(keep)
