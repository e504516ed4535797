# BUG: masks p * log p AFTER the product: the value is right, but the gradient is NaN for -inf logits.
import torch
import torch.nn.functional as F


def entropy(logits):
    logp = F.log_softmax(logits, dim=-1)
    p = logp.exp()
    plogp = torch.where(p > 0, p * logp, torch.zeros_like(logp))
    return -plogp.sum(dim=-1)


def kl_divergence(p_logits, q_logits):
    logp = F.log_softmax(p_logits, dim=-1)
    logq = F.log_softmax(q_logits, dim=-1)
    p = logp.exp()
    log_ratio = torch.where(p > 0, logp - logq, torch.zeros_like(logp))
    return (p * log_ratio).sum(dim=-1)


def kl_estimator(logp, logq, kind="k3"):
    log_r = logq - logp
    if kind == "k1":
        return -log_r
    if kind == "k2":
        return 0.5 * log_r ** 2
    if kind == "k3":
        return torch.expm1(log_r) - log_r
    raise ValueError(kind)
