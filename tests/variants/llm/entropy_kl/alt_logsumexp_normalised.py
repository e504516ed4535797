# CORRECT, written differently: log-probabilities as logits - logsumexp(logits), masked_fill for the
# 0 log 0 convention, a sign-folded KL, and a dictionary of estimators built on -log r.
import torch


def _log_probs(logits):
    return logits - torch.logsumexp(logits, dim=-1, keepdim=True)


def entropy(logits):
    logp = _log_probs(logits)
    p = logp.exp()
    return (p * logp.masked_fill(p == 0, 0.0)).sum(dim=-1).neg()


def kl_divergence(p_logits, q_logits):
    logp, logq = _log_probs(p_logits), _log_probs(q_logits)
    p = logp.exp()
    zero = p == 0
    neg = p * (logq.masked_fill(zero, 0.0) - logp.masked_fill(zero, 0.0))
    return -neg.sum(dim=-1)


def kl_estimator(logp, logq, kind="k3"):
    neg_log_r = logp - logq
    estimators = {
        "k1": lambda: neg_log_r,
        "k2": lambda: neg_log_r.square() / 2,
        "k3": lambda: torch.expm1(-neg_log_r) + neg_log_r,
    }
    return estimators[kind]()
