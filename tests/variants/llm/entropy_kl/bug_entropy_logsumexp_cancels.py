# BUG: entropy as logsumexp(l) - sum p * l (TRL's entropy_from_logits): two numbers of the size of the
# logits cancel, so for logits around 1e4 the entropy is off by whole nats.
import torch


def entropy(logits):
    lse = torch.logsumexp(logits, dim=-1, keepdim=True)          # (..., 1)
    p = torch.exp(logits - lse)
    finite_logits = logits.masked_fill(p == 0, 0.0)
    return lse.squeeze(-1) - (p * finite_logits).sum(dim=-1)


def kl_divergence(p_logits, q_logits):
    logp = torch.log_softmax(p_logits, dim=-1)
    logq = torch.log_softmax(q_logits, dim=-1)
    p = logp.exp()
    log_ratio = torch.where(p > 0, logp - logq, torch.zeros_like(logp))
    return (p * log_ratio).sum(dim=-1)


def kl_estimator(logp, logq, kind="k3"):
    neg_log_r = logp - logq
    estimators = {
        "k1": lambda: neg_log_r,
        "k2": lambda: neg_log_r.square() / 2,
        "k3": lambda: torch.expm1(-neg_log_r) + neg_log_r,
    }
    return estimators[kind]()
