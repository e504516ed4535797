# BUG: never skips a blank, so every pair of labels must be separated by a blank frame.
from typing import List

import torch


def extend_with_blanks(target: List[int], blank: int = 0) -> List[int]:
    """``[blank, y_1, blank, ..., y_L, blank]``, of length ``2 * len(target) + 1``."""
    extended = [blank]
    for label in target:
        extended += [label, blank]
    return extended


def log_add(terms: torch.Tensor) -> torch.Tensor:
    """``log(sum(exp(terms)))`` over dim 0, with a finite gradient where every term is ``-inf``.

    ``torch.logsumexp`` returns ``-inf`` there but its gradient is ``nan`` (``exp(-inf - -inf)``), and a
    single ``nan`` poisons every gradient upstream, although such states (not yet reachable) carry no
    probability.  Given to you: this is plumbing, not CTC.
    """
    top = terms.max(dim=0).values
    reachable = torch.isfinite(top)
    top = torch.where(reachable, top, torch.zeros_like(top)).detach()
    total = torch.exp(terms - top).sum(dim=0)
    safe_total = torch.where(reachable, total, torch.ones_like(total))
    return torch.where(reachable, top + torch.log(safe_total), torch.full_like(total, float("-inf")))


def ctc_log_likelihood(log_probs: torch.Tensor, target: List[int], blank: int = 0) -> torch.Tensor:
    """``log p(target | x)``, the log of the summed probability of every path that collapses to ``target``.

    Args:
        log_probs: float ``(T, C)``, per-frame log-probabilities (normally a ``log_softmax`` output).
        target: ``L >= 0`` label ids, none equal to ``blank``.
        blank: the blank symbol's id.

    Returns:
        a 0-dim tensor of ``log_probs``'s dtype, differentiable w.r.t. ``log_probs`` with finite
        gradients (use ``log_add`` rather than ``torch.logsumexp`` where every term may be ``-inf``);
        ``-inf`` when no path fits in ``T`` frames (a target needs ``L`` frames plus one per pair of
        equal neighbours).  Finite for ``T`` in the thousands (log space).
    """
    z = torch.tensor(extend_with_blanks(target, blank))                  # (S,) S = 2L + 1
    S = len(z)
    neg_inf = torch.tensor(float("-inf"), dtype=log_probs.dtype)

    def shifted(a, k):                                                  # a[s - k], -inf where s < k
        return torch.cat([neg_inf.expand(min(k, S)), a[: max(S - k, 0)]])

    # the skip s-2 -> s is allowed into a label that differs from the label two states back
    can_skip = torch.zeros(S, dtype=torch.bool)
    can_skip[2:] = False
    alpha = torch.full((S,), float("-inf"), dtype=log_probs.dtype)
    alpha[0] = log_probs[0, z[0]]
    if S > 1:
        alpha[1] = log_probs[0, z[1]]
    for t in range(1, log_probs.shape[0]):
        skip = torch.where(can_skip, shifted(alpha, 2), neg_inf)          # from s - 2, where allowed
        alpha = log_add(torch.stack([alpha, shifted(alpha, 1), skip])) + log_probs[t, z]
    return log_add(alpha[-2:]) if S > 1 else alpha[-1]


def ctc_loss(log_probs: torch.Tensor, targets: torch.Tensor, input_lengths: torch.Tensor,
             target_lengths: torch.Tensor, blank: int = 0, reduction: str = "mean",
             zero_infinity: bool = False) -> torch.Tensor:
    """The batched CTC loss, as ``F.ctc_loss`` with padded targets.

    Args:
        log_probs: float ``(T, N, C)``, time first (torch's layout).
        targets: int64 ``(N, S_max)``; row ``n``'s target is ``targets[n, :target_lengths[n]]``.
        input_lengths: int64 ``(N,)``; sequence ``n`` uses frames ``0 .. input_lengths[n] - 1`` only.
        target_lengths: int64 ``(N,)``.
        reduction: ``"none"`` -- ``(N,)`` losses ``-log p(y_n | x_n)``; ``"sum"`` -- their sum;
            ``"mean"`` -- the mean over the batch of each loss divided by its target length (clamped
            to at least 1).
        zero_infinity: replace infinite losses (no path fits) by 0 (and their gradients by 0).

    Returns:
        a tensor of ``log_probs``'s dtype, differentiable w.r.t. ``log_probs``.
    """
    losses = []
    for n in range(log_probs.shape[1]):
        frames = log_probs[: int(input_lengths[n]), n]                         # (T_n, C)
        target = targets[n, : int(target_lengths[n])].tolist()
        losses.append(-ctc_log_likelihood(frames, target, blank))
    losses = torch.stack(losses)                                               # (N,)
    if zero_infinity:
        losses = torch.where(torch.isinf(losses), torch.zeros_like(losses), losses)
    if reduction == "none":
        return losses
    if reduction == "sum":
        return losses.sum()
    return (losses / target_lengths.clamp(min=1).to(losses.dtype)).mean()


def greedy_decode(log_probs: torch.Tensor, input_lengths: torch.Tensor, blank: int = 0) -> List[List[int]]:
    """Best-path decoding: the most likely symbol of each frame (the first on a tie), repeats merged,
    then blanks removed.

    Args:
        log_probs: float ``(T, N, C)``.
        input_lengths: int64 ``(N,)``; frames past a sequence's length are ignored.

    Returns:
        one list of label ids per sequence.
    """
    best = log_probs.argmax(dim=-1)                                    # (T, N)
    out = []
    for n in range(log_probs.shape[1]):
        path = best[: int(input_lengths[n]), n].tolist()
        merged = [s for i, s in enumerate(path) if i == 0 or s != path[i - 1]]
        out.append([s for s in merged if s != blank])
    return out
