# CORRECT, written differently: the backward (beta) recursion from the last frame, with an explicit transition list per state.
from typing import List

import torch


def log_add(terms):
    top = terms.max(dim=0).values
    ok = torch.isfinite(top)
    top = torch.where(ok, top, torch.zeros_like(top)).detach()
    total = torch.exp(terms - top).sum(dim=0)
    return torch.where(ok, top + torch.log(torch.where(ok, total, torch.ones_like(total))),
                       torch.full_like(total, float("-inf")))


def extend_with_blanks(target, blank=0):
    out = [blank] * (2 * len(target) + 1)
    out[1::2] = target
    return out


def ctc_log_likelihood(log_probs, target: List[int], blank=0):
    z = extend_with_blanks(list(target), blank)
    S, T = len(z), log_probs.shape[0]
    ninf = float("-inf")
    # successors of state s: s, s + 1, and s + 2 when z[s + 2] is a label different from z[s]
    nxt = [[s] + ([s + 1] if s + 1 < S else []) +
           ([s + 2] if s + 2 < S and z[s + 2] != blank and z[s + 2] != z[s] else []) for s in range(S)]
    beta = [log_probs[T - 1, z[s]] if s >= S - 2 else log_probs.new_tensor(ninf) for s in range(S)]
    for t in range(T - 2, -1, -1):
        beta = [log_add(torch.stack([beta[u] for u in nxt[s]])) + log_probs[t, z[s]] for s in range(S)]
    return log_add(torch.stack(beta[:2])) if S > 1 else beta[0]


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean", zero_infinity=False):
    losses = torch.stack([-ctc_log_likelihood(log_probs[: input_lengths[n], n],
                                              targets[n, : target_lengths[n]].tolist(), blank)
                          for n in range(targets.shape[0])])
    if zero_infinity:
        losses = losses.masked_fill(torch.isinf(losses), 0.0)
    if reduction == "none":
        return losses
    if reduction == "sum":
        return losses.sum()
    return (losses / torch.clamp(target_lengths, min=1)).mean()


def greedy_decode(log_probs, input_lengths, blank=0):
    result = []
    for n, length in enumerate(input_lengths.tolist()):
        previous, labels = None, []
        for s in log_probs[:length, n].argmax(-1).tolist():
            if s != previous and s != blank:
                labels.append(s)
            previous = s
        result.append(labels)
    return result
