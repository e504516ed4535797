# CORRECT, written differently: KL(p || q) as cross-entropy minus entropy, the mixture with torch.logaddexp, the teacher under no_grad.
import math

import torch


def _kl(log_p, log_q):
    p = log_p.exp()
    return (p * log_p).sum(-1) - (p * log_q).sum(-1)


def distillation_loss(student_logits, teacher_logits, labels, temperature=2.0, alpha=0.5, ignore_index=-100):
    keep = labels != ignore_index
    s = student_logits[keep]
    with torch.no_grad():
        log_pt = (teacher_logits[keep] / temperature).log_softmax(-1)
    log_ps = (s / temperature).log_softmax(-1)
    soft = temperature * temperature * _kl(log_pt, log_ps).mean()
    hard = (torch.logsumexp(s, -1) - s.gather(-1, labels[keep].unsqueeze(-1)).squeeze(-1)).mean()
    return alpha * soft + (1 - alpha) * hard


def generalized_jsd(student_logits, teacher_logits, labels, beta=0.5, temperature=1.0, ignore_index=-100):
    keep = labels != ignore_index
    if not keep.any():
        return student_logits.sum() * 0.0
    log_s = (student_logits[keep] / temperature).log_softmax(-1)
    with torch.no_grad():
        log_t = (teacher_logits[keep] / temperature).log_softmax(-1)
    if beta == 0:
        div = _kl(log_t, log_s)
    elif beta == 1:
        div = _kl(log_s, log_t)
    else:
        log_m = torch.logaddexp(log_t + math.log(beta), log_s + math.log(1 - beta))
        div = beta * _kl(log_t, log_m) + (1 - beta) * _kl(log_s, log_m)
    return div.mean()
