"""Knowledge distillation: a small student learns from a large teacher's soft predictions.

Hinton et al. (2015, "Distilling the Knowledge in a Neural Network") train the student on the
teacher's whole output distribution, not just on the label: the teacher's probabilities for the
wrong classes ("a 2 that looks a bit like a 7") carry most of what it knows.  Both distributions
are softened with a temperature ``T`` (softmax of ``logits / T``), and the loss mixes the soft
target term with the usual hard-label cross-entropy:

    loss = alpha * T^2 * KL(p_teacher^T || p_student^T) + (1 - alpha) * CE(student_logits, labels)

The ``T^2`` keeps the soft term's gradients the same size whatever ``T`` is (they shrink as
``1 / T^2``).  The KL is *forward*, teacher first: the student must cover everything the teacher
thinks plausible.

Distilling language models (GKD, Agarwal et al. 2024, "On-Policy Distillation of Language Models";
TRL's ``GKDTrainer``) replaces the KL with the generalised Jensen-Shannon divergence, which
interpolates between the forward and the *reverse* KL (mode-seeking: the student may drop some of
the teacher's modes rather than smear probability over all of them):

    m = beta * p_teacher + (1 - beta) * p_student
    JSD_beta = beta * KL(p_teacher || m) + (1 - beta) * KL(p_student || m)
    beta = 0: KL(p_teacher || p_student)        beta = 1: KL(p_student || p_teacher)

Both losses are per position (a class distribution per example, or per token of a sequence) and
averaged over the positions whose label is not ``ignore_index``.  The teacher is frozen: no
gradient may flow into it.  Write them with tensor operations (``log_softmax`` and ``logsumexp``
are fine; ``F.kl_div`` and ``F.cross_entropy`` are not).
"""
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
    ### BEGIN SOLUTION
    C = student_logits.shape[-1]
    s = student_logits.reshape(-1, C)                                        # (n, C)
    t = teacher_logits.detach().reshape(-1, C)                               # (n, C) frozen teacher
    y = labels.reshape(-1)                                                   # (n,)
    counted = y != ignore_index
    s, t, y = s[counted], t[counted], y[counted]
    log_p_student_T = torch.log_softmax(s / temperature, dim=-1)
    log_p_teacher_T = torch.log_softmax(t / temperature, dim=-1)
    kl = (log_p_teacher_T.exp() * (log_p_teacher_T - log_p_student_T)).sum(-1)  # (n,) KL(teacher || student)
    soft = kl.mean() * temperature ** 2
    hard = -torch.log_softmax(s, dim=-1).gather(1, y[:, None]).squeeze(1).mean()
    return alpha * soft + (1 - alpha) * hard
    ### END SOLUTION


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
    ### BEGIN SOLUTION
    log_s = torch.log_softmax(student_logits / temperature, dim=-1)           # (..., V)
    log_t = torch.log_softmax(teacher_logits.detach() / temperature, dim=-1)  # (..., V)
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
    ### END SOLUTION
