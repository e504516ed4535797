"""XLNet's permutation language modelling: autoregressive, yet every token sees both sides.

BERT sees both sides of a masked token but predicts the masked tokens independently and trains on
``[MASK]`` tokens it never meets again; GPT predicts left to right and sees only the left.  XLNet
(Yang et al. 2019, the seed's "permutation language modeling to get bidirectionality while
preserving the autoregressive property") samples a *factorisation order* -- a permutation ``z`` of
the positions -- and predicts the tokens autoregressively *in that order*, without moving them:
the token at position ``z_t`` is predicted from the tokens at ``z_1 .. z_{t-1}``, which lie on both
sides of it.  Everything is done with attention masks.  With ``rank[p]`` the step at which
position ``p`` comes in the order:

* the **content stream** of position ``i`` (its representation as context for later steps) may
  attend to ``j`` when ``rank[j] <= rank[i]`` (itself included);
* the **query stream** of position ``i`` (which predicts the token at ``i``, so must not see it)
  may attend to ``j`` when ``rank[j] < rank[i]``.

In practice only some positions are prediction targets (XLNet predicts the last ~1/6 of each
order; Hugging Face's collator, spans like BERT's).  The others are context: they get rank -1,
so every position sees them, while they see each other but no target.  Hugging Face's XLNet takes
this as ``perm_mask[i, j] = 1.0`` when ``i`` may NOT attend to ``j`` (``rank[i] <= rank[j]`` and
``j`` is a target) and ``target_mapping``, one one-hot row per predicted position -- the formula of
``DataCollatorForPermutationLanguageModeling``.
"""
from typing import Tuple

import torch


def factorization_ranks(order: torch.Tensor) -> torch.Tensor:
    """``rank[p]`` = the step at which position ``p`` appears in ``order``.

    Args:
        order: int64 ``(T,)``, a permutation of ``0 .. T-1``: ``order[t]`` is the position predicted at step ``t``.

    Returns:
        int64 ``(T,)``, the inverse permutation (``rank[order[t]] == t``).
    """
    ### BEGIN SOLUTION
    rank = torch.empty_like(order)
    rank[order] = torch.arange(order.numel(), dtype=order.dtype)
    return rank
    ### END SOLUTION


def two_stream_masks(order: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """The content- and query-stream masks of a factorisation order (every position a target).

    Returns:
        ``(content, query)``, bool ``(T, T)``, True where row position ``i`` may attend to column ``j``:
        ``content[i, j] = rank[j] <= rank[i]``, ``query[i, j] = rank[j] < rank[i]``.
    """
    ### BEGIN SOLUTION
    rank = factorization_ranks(order)
    content = rank[None, :] <= rank[:, None]          # (T, T) j no later than i
    query = rank[None, :] < rank[:, None]             # (T, T) j strictly before i
    return content, query
    ### END SOLUTION


def xlnet_perm_mask(order: torch.Tensor, is_target: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """Hugging Face XLNet's ``perm_mask`` and ``target_mapping`` for one sequence.

    Args:
        order: int64 ``(T,)``, a factorisation order (a permutation of the positions).
        is_target: bool ``(T,)``, the positions to predict (at least one).

    Non-target positions get rank -1 (visible to all, seeing no target).

    Returns:
        ``(perm_mask, target_mapping)``: ``perm_mask`` float32 ``(T, T)``, 1.0 where position ``i`` may not
        attend to ``j`` -- ``rank[i] <= rank[j]`` and ``j`` is a target -- else 0.0; ``target_mapping`` float32
        ``(K, T)`` with ``K`` the number of targets, row ``k`` one-hot at the ``k``-th target in POSITION order.
    """
    ### BEGIN SOLUTION
    rank = factorization_ranks(order).masked_fill(~is_target, -1)                # (T,)
    blocked = (rank[:, None] <= rank[None, :]) & is_target[None, :]              # (T, T)
    targets = torch.nonzero(is_target).flatten()                                 # (K,) ascending positions
    mapping = torch.zeros(len(targets), order.numel())
    mapping[torch.arange(len(targets)), targets] = 1.0
    return blocked.float(), mapping
    ### END SOLUTION
