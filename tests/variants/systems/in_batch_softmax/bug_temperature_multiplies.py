# BUG: multiplies the similarities by the temperature instead of dividing.
"""The two-tower retrieval loss: softmax over in-batch negatives, symmetric (CLIP) and logQ-corrected.

A two-tower model embeds queries and items separately, so that retrieval is a nearest-neighbour
search over item embeddings.  It is trained on a batch of ``B`` (query, clicked item) pairs:
every query should score its own item above the ``B - 1`` other items of the batch, which serve
as free negatives.  With ``logits[i, j] = <q_i, d_j> / temperature``, the loss is the cross-entropy
of each row against the diagonal -- what ``F.cross_entropy(logits, arange(B))`` computes and
TensorFlow Recommenders' ``tfrs.tasks.Retrieval`` implements.  Around that core:

* **normalised embeddings**: with ``normalize=True`` both towers' outputs are L2-normalised first
  (as ``F.normalize``: ``x / max(||x||, 1e-12)``), so the logits are cosine similarities / temperature.
  Small temperatures (0.01-0.07) are common, which puts logits in the hundreds: the log-sum-exp
  must be computed stably.
* **symmetric loss** (CLIP, Radford et al. 2021): also classify each item against the batch's
  queries (the columns) and average the two directions.
* **logQ correction** (Yi et al. 2019, "Sampling-bias-corrected neural modeling for large corpus
  item recommendations"): popular items appear as in-batch negatives far more often than rare
  ones, which over-penalises them.  Subtracting ``log p_j``, the log of item ``j``'s sampling
  probability, from every logit of column ``j`` (after the temperature, the positive included)
  makes the in-batch softmax an unbiased estimate of the full softmax.
* **accidental hits**: when the same item appears twice in a batch, the copy at ``j != i`` is not
  a negative for query ``i``; given ``item_ids``, those logits are removed (set to ``-inf``),
  as ``tfrs.layers.loss.RemoveAccidentalHits`` does.

Write it with tensor ops; ``torch.logsumexp`` is allowed, the library cross-entropy and
log-softmax are not.
"""
from typing import Optional

import torch


def in_batch_logits(query: torch.Tensor, item: torch.Tensor, temperature: float = 1.0, *,
                    normalize: bool = False, sampling_prob: Optional[torch.Tensor] = None,
                    item_ids: Optional[torch.Tensor] = None) -> torch.Tensor:
    """The ``(B, B)`` logit matrix of a batch: row ``i`` scores query ``i`` against every item.

    Args:
        query: ``(B, D)`` float tensor, the query tower's outputs.
        item: ``(B, D)`` float tensor of the same dtype; ``item[i]`` is query ``i``'s positive.
        temperature: a float ``> 0``.
        normalize: L2-normalise the rows of ``query`` and ``item`` first (``eps = 1e-12``).
        sampling_prob: optional ``(B,)`` float tensor in ``(0, 1]``, the probability with which
            item ``j`` is sampled into a batch; ``log sampling_prob[j]`` is subtracted from column ``j``.
        item_ids: optional ``(B,)`` int64 tensor; where ``item_ids[i] == item_ids[j]`` and
            ``i != j`` the logit is ``-inf`` (the diagonal is never masked).

    ``logits[i, j] = <q_i, d_j> / temperature - log sampling_prob[j]``.

    Returns:
        ``(B, B)`` tensor of the inputs' dtype, differentiable w.r.t. ``query`` and ``item``.
        The inputs are not modified.
    """
    if normalize:
        query = query / query.norm(dim=-1, keepdim=True).clamp(min=1e-12)
        item = item / item.norm(dim=-1, keepdim=True).clamp(min=1e-12)
    logits = query @ item.T * temperature                            # (B, B)
    if sampling_prob is not None:
        logits = logits - torch.log(sampling_prob).to(logits.dtype)  # (B,) broadcasts over columns
    if item_ids is not None:
        B = logits.shape[0]
        hit = (item_ids[:, None] == item_ids[None, :]) & ~torch.eye(B, dtype=torch.bool)
        logits = logits.masked_fill(hit, float("-inf"))
    return logits


def in_batch_softmax_loss(query: torch.Tensor, item: torch.Tensor, temperature: float = 1.0, *,
                          normalize: bool = False, symmetric: bool = False,
                          sampling_prob: Optional[torch.Tensor] = None,
                          item_ids: Optional[torch.Tensor] = None) -> torch.Tensor:
    """Mean cross-entropy of the in-batch softmax, with the diagonal as targets.

    Args: as :func:`in_batch_logits`, plus
        symmetric: average the query->item loss (softmax over each row) and the item->query loss
            (softmax over each column), as CLIP does.  ``symmetric=True`` together with
            ``sampling_prob`` raises ``ValueError`` (the correction is for items sampled as
            negatives of a query, it has no meaning for the item->query direction).

    ``loss = mean_i [ logsumexp_j logits[i, j] - logits[i, i] ]`` (query->item).

    Returns:
        a 0-dim tensor of the inputs' dtype, finite for any temperature > 0 and differentiable
        w.r.t. ``query`` and ``item``.  The inputs are not modified.
    """
    if symmetric and sampling_prob is not None:
        raise ValueError("the logQ correction applies to the query->item direction only")
    logits = in_batch_logits(query, item, temperature, normalize=normalize,
                             sampling_prob=sampling_prob, item_ids=item_ids)   # (B, B)
    positive = logits.diagonal()                                                # (B,)
    q2d = (torch.logsumexp(logits, dim=1) - positive).mean()
    if not symmetric:
        return q2d
    d2q = (torch.logsumexp(logits, dim=0) - positive).mean()
    return (q2d + d2q) / 2
