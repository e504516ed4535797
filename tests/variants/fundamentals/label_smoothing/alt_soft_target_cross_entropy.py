# CORRECT, written differently: the loss as -sum_c q_c w_c log p_c with q the smoothed one-hot (the weighted terms combine into one sum).
import torch


def smoothed_targets(target, num_classes, smoothing, dtype=torch.float32):
    one_hot = torch.nn.functional.one_hot(target, num_classes).to(dtype)
    return one_hot * (1 - smoothing) + smoothing / num_classes


def label_smoothing_cross_entropy(logits, target, smoothing=0.1, weight=None, ignore_index=-100, reduction="mean"):
    if reduction not in {"none", "sum", "mean"}:
        raise ValueError(reduction)
    C = logits.shape[1]
    keep = target != ignore_index
    w = logits.new_ones(C) if weight is None else weight.to(logits.dtype)
    q = smoothed_targets(torch.where(keep, target, 0), C, smoothing, logits.dtype)
    logp = logits - torch.logsumexp(logits, dim=1, keepdim=True)
    losses = -(q * w * logp).sum(1) * keep
    if reduction == "none":
        return losses
    total = losses.sum()
    return total if reduction == "sum" else total / w[target[keep]].sum()
