# BUG: does not detach the teacher: backward() sends gradients into the teacher's logits (and weights).
import math

import torch


def distillation_loss(student_logits: torch.Tensor, teacher_logits: torch.Tensor, labels: torch.Tensor,
                      temperature: float = 2.0, alpha: float = 0.5, ignore_index: int = -100) -> torch.Tensor:
    """Hinton's distillation loss, averaged over the counted positions.

    Args:
        student_logits: float ``(..., C)``, e.g. ``(N, C)`` for classification or ``(B, T, C)`` for tokens.
        teacher_logits: float, the same shape.
        labels: int64 of the leading shape ``(...)``; ``ignore_index`` marks positions that count in
            neither term.  At least one position counts.
        temperature: ``T > 0``, softens both distributions of the soft term (the hard term uses the
            student's plain logits, at temperature 1).
        alpha: the weight of the soft term, in ``[0, 1]``.

    Returns:
        a 0-dim tensor: ``alpha * T^2 * mean_i KL(softmax(t_i / T) || softmax(s_i / T))
        + (1 - alpha) * mean_i -log softmax(s_i)[labels_i]``, both means over the counted positions ``i``,
        each KL summed over the classes.  Differentiable w.r.t. ``student_logits`` only (the teacher is
        treated as a constant); finite for any finite logits.
    """
    C = student_logits.shape[-1]
    s = student_logits.reshape(-1, C)                                        # (n, C)
    t = teacher_logits.reshape(-1, C)                                        # (n, C)
    y = labels.reshape(-1)                                                   # (n,)
    counted = y != ignore_index
    s, t, y = s[counted], t[counted], y[counted]
    log_p_student_T = torch.log_softmax(s / temperature, dim=-1)
    log_p_teacher_T = torch.log_softmax(t / temperature, dim=-1)
    kl = (log_p_teacher_T.exp() * (log_p_teacher_T - log_p_student_T)).sum(-1)  # (n,) KL(teacher || student)
    soft = kl.mean() * temperature ** 2
    hard = -torch.log_softmax(s, dim=-1).gather(1, y[:, None]).squeeze(1).mean()
    return alpha * soft + (1 - alpha) * hard


def generalized_jsd(student_logits: torch.Tensor, teacher_logits: torch.Tensor, labels: torch.Tensor,
                    beta: float = 0.5, temperature: float = 1.0, ignore_index: int = -100) -> torch.Tensor:
    """GKD's generalised Jensen-Shannon divergence, averaged over the counted positions.

    Args:
        student_logits: float ``(..., V)``; position by position aligned with ``labels`` (any shift has
            been done by the caller).
        teacher_logits: float, the same shape.
        labels: int64 ``(...)``; only positions whose label is not ``ignore_index`` count.
        beta: in ``[0, 1]``; ``0`` gives exactly ``KL(p_teacher || p_student)`` and ``1`` exactly
            ``KL(p_student || p_teacher)``; in between, ``JSD_beta`` of the module docstring.
        temperature: both logits are divided by it before the softmax (no ``T^2`` factor here).

    Returns:
        a 0-dim tensor: the sum over counted positions of the divergence (each summed over the
        vocabulary) divided by the number of counted positions, clamped below at 1 (no position
        counting gives 0, not nan).  Differentiable w.r.t. ``student_logits`` only; finite for any
        finite logits (work with log-probabilities: compute ``log m`` with ``logsumexp``).
    """
    log_s = torch.log_softmax(student_logits / temperature, dim=-1)           # (..., V)
    log_t = torch.log_softmax(teacher_logits / temperature, dim=-1)           # (..., V)
    if beta == 0:
        div = (log_t.exp() * (log_t - log_s)).sum(-1)                          # KL(teacher || student)
    elif beta == 1:
        div = (log_s.exp() * (log_s - log_t)).sum(-1)                          # KL(student || teacher)
    else:
        log_m = torch.logsumexp(torch.stack([log_t + math.log(beta), log_s + math.log1p(-beta)]), dim=0)
        kl_teacher = (log_t.exp() * (log_t - log_m)).sum(-1)
        kl_student = (log_s.exp() * (log_s - log_m)).sum(-1)
        div = beta * kl_teacher + (1 - beta) * kl_student                      # (...)
    counted = labels != ignore_index
    return div[counted].sum() / counted.sum().clamp(min=1)
