# BUG: weights the log-ratio by q instead of p (computes the reverse KL(q || p) up to sign conventions).
import torch
import torch.nn.functional as F


def entropy(logits):
    logp = F.log_softmax(logits, dim=-1)
    p = logp.exp()
    logp = torch.where(p > 0, logp, torch.zeros_like(logp))
    return -(p * logp).sum(dim=-1)


def kl_divergence(p_logits, q_logits):
    logp = F.log_softmax(p_logits, dim=-1)
    logq = F.log_softmax(q_logits, dim=-1)
    q = logq.exp()
    log_ratio = torch.where(q > 0, logq - logp, torch.zeros_like(logq))
    return (q * log_ratio).sum(dim=-1)


def kl_estimator(logp, logq, kind="k3"):
    log_r = logq - logp
    if kind == "k1":
        return -log_r
    if kind == "k2":
        return 0.5 * log_r ** 2
    if kind == "k3":
        return torch.expm1(log_r) - log_r
    raise ValueError(kind)
