# BUG: the head has a bias, so Hugging Face's score weights (no bias) do not load into it.
import torch
from torch import nn


def last_token_index(attention_mask: torch.Tensor) -> torch.Tensor:
    """The index of each row's last real token.

    Args:
        attention_mask: ``(B, T)`` of 0/1 (int or bool), 1 on real tokens; padding on either side
            (or none); every row has at least one real token.

    Returns:
        int64 ``(B,)``: the largest ``t`` with ``attention_mask[b, t] == 1``.
    """
    positions = torch.arange(attention_mask.shape[1], device=attention_mask.device)   # (T,)
    return (positions * attention_mask.long()).argmax(dim=1)                           # (B,)


class RewardHead(nn.Module):
    """A linear head to one scalar, read at each row's last real token.

    ``self.score = nn.Linear(hidden_size, 1, bias=False)`` -- the name and the missing bias are
    those of Hugging Face's ``*ForSequenceClassification.score``, so its weights load as they are
    (``load_state_dict({"score.weight": w})`` with ``w`` of shape ``(1, hidden_size)``).
    """

    def __init__(self, hidden_size: int):
        super().__init__()
        self.score = nn.Linear(hidden_size, 1)

    def forward(self, hidden_states: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Rewards of a batch.

        Args:
            hidden_states: float ``(B, T, H)``, the transformer's last hidden states.
            attention_mask: ``(B, T)`` of 0/1 (int or bool), as for ``last_token_index``.

        Returns:
            float ``(B,)`` (not ``(B, 1)``), ``reward[b] = score(hidden_states[b, last[b]])``, of the
            hidden states' dtype; differentiable w.r.t. ``hidden_states`` and the head's weight
            (only the last real position of each row receives a gradient).
        """
        last = last_token_index(attention_mask)                                # (B,)
        rows = torch.arange(hidden_states.shape[0], device=hidden_states.device)
        pooled = hidden_states[rows, last]                                     # (B, H)
        return self.score(pooled).squeeze(-1)                                  # (B,)
