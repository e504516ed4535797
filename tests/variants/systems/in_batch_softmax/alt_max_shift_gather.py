# CORRECT, written differently: einsum logits, additive masks, log-softmax by hand (max shift) and gather; the symmetric loss transposes.
"""Two-tower in-batch softmax, written with an explicit max-shifted log-softmax."""
from typing import Optional

import torch


def _unit(x: torch.Tensor) -> torch.Tensor:
    n = torch.sqrt((x * x).sum(-1, keepdim=True))
    return x / torch.maximum(n, torch.full_like(n, 1e-12))


def in_batch_logits(query, item, temperature=1.0, *, normalize=False, sampling_prob=None, item_ids=None):
    if normalize:
        query, item = _unit(query), _unit(item)
    logits = torch.einsum("id,jd->ij", query, item) / temperature
    if sampling_prob is not None:
        logits = logits - sampling_prob.log().unsqueeze(0)
    if item_ids is not None:
        same = item_ids.unsqueeze(0) == item_ids.unsqueeze(1)
        same.fill_diagonal_(False)
        logits = torch.where(same, torch.full_like(logits, -float("inf")), logits)
    return logits


def _row_ce(logits: torch.Tensor) -> torch.Tensor:
    m = logits.max(dim=1, keepdim=True).values.detach()        # the diagonal is finite, so m is finite
    log_probs = logits - m - torch.log(torch.exp(logits - m).sum(dim=1, keepdim=True))
    target = torch.arange(logits.shape[0]).unsqueeze(1)
    return -log_probs.gather(1, target).squeeze(1).mean()


def in_batch_softmax_loss(query, item, temperature=1.0, *, normalize=False, symmetric=False,
                          sampling_prob: Optional[torch.Tensor] = None, item_ids=None):
    if symmetric and sampling_prob is not None:
        raise ValueError("sampling_prob is for the query->item direction only")
    L = in_batch_logits(query, item, temperature, normalize=normalize, sampling_prob=sampling_prob,
                        item_ids=item_ids)
    loss = _row_ce(L)
    if symmetric:
        loss = 0.5 * (loss + _row_ce(L.t()))
    return loss
