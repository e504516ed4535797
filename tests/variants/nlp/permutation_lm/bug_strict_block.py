# BUG: blocks with < instead of <=, so a target may attend to its own position (a leak) in the query stream.
from typing import Tuple

import torch


def factorization_ranks(order: torch.Tensor) -> torch.Tensor:
    """``rank[p]`` = the step at which position ``p`` appears in ``order``.

    Args:
        order: int64 ``(T,)``, a permutation of ``0 .. T-1``: ``order[t]`` is the position predicted at step ``t``.

    Returns:
        int64 ``(T,)``, the inverse permutation (``rank[order[t]] == t``).
    """
    rank = torch.empty_like(order)
    rank[order] = torch.arange(order.numel(), dtype=order.dtype)
    return rank


def two_stream_masks(order: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """The content- and query-stream masks of a factorisation order (every position a target).

    Returns:
        ``(content, query)``, bool ``(T, T)``, True where row position ``i`` may attend to column ``j``:
        ``content[i, j] = rank[j] <= rank[i]``, ``query[i, j] = rank[j] < rank[i]``.
    """
    rank = factorization_ranks(order)
    content = rank[None, :] <= rank[:, None]          # (T, T) j no later than i
    query = rank[None, :] < rank[:, None]             # (T, T) j strictly before i
    return content, query


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
    rank = factorization_ranks(order).masked_fill(~is_target, -1)                # (T,)
    blocked = (rank[:, None] < rank[None, :]) & is_target[None, :]               # (T, T)
    targets = torch.nonzero(is_target).flatten()                                 # (K,) ascending positions
    mapping = torch.zeros(len(targets), order.numel())
    mapping[torch.arange(len(targets)), targets] = 1.0
    return blocked.float(), mapping
