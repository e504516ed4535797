# BUG: uses raw dot products, not cosine similarities (the rows are never normalised).
from typing import Tuple

import torch


def nt_xent_logits(z1: torch.Tensor, z2: torch.Tensor, temperature: float = 0.5) -> Tuple[torch.Tensor, torch.Tensor]:
    """The ``(2N, 2N)`` similarity logits of the two views and each row's positive.

    Args:
        z1, z2: float ``(N, D)``, the embeddings of the two views (row ``k`` of both: the same image),
            not necessarily normalised (each row is divided by ``max(norm, 1e-12)``).
        temperature: ``tau > 0``.

    Returns:
        ``(logits, targets)``: ``logits[i, j] = <z_i, z_j> / tau`` over ``z = [z1; z2]`` normalised, with
        ``-inf`` on the diagonal; ``targets`` int64 ``(2N,)``, ``targets[i] = p(i)``.
    """
    z = torch.cat([z1, z2])                                              # (2N, D)
    logits = z @ z.T / temperature                                       # (2N, 2N)
    self_pairs = torch.eye(len(z), dtype=torch.bool)
    logits = logits.masked_fill(self_pairs, float("-inf"))
    n = len(z1)
    targets = torch.cat([torch.arange(n, 2 * n), torch.arange(n)])       # (2N,) the other view
    return logits, targets


def nt_xent_loss(z1: torch.Tensor, z2: torch.Tensor, temperature: float = 0.5) -> torch.Tensor:
    """The NT-Xent loss: the mean over the ``2N`` anchors of ``logsumexp(row) - row[target]``.

    Returns:
        a 0-dim tensor of the inputs' dtype, differentiable w.r.t. ``z1`` and ``z2``, finite for
        temperatures down to 0.01 (stable log-sum-exp).
    """
    logits, targets = nt_xent_logits(z1, z2, temperature)
    positive = logits.gather(1, targets[:, None]).squeeze(1)             # (2N,)
    return (torch.logsumexp(logits, dim=1) - positive).mean()
