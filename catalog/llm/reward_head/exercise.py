"""The reward model's head: one scalar per sequence, read at the last real token.

A reward model (the seed's RLHF answer: "usually the same architecture as the LLM with a value
head on top") is a transformer whose language-model head is replaced by a linear layer to a
single number.  The transformer gives a hidden state for every position; a causal model's last
position is the only one that has read the whole prompt and response, so the reward is the head
applied there:

    reward[b] = w . h[b, last[b]]          last[b] = the index of row b's last real token

In a padded batch "the last position" is not ``T - 1``: right-padded rows end earlier, and
left-padded rows (generation pads on the left) end at ``T - 1`` but start later.  Hugging Face's
``*ForSequenceClassification`` models (``LlamaForSequenceClassification``, ``GPT2ForSequenceClassification``,
which TRL's ``RewardTrainer`` trains) take "the rightmost token that is not ``pad_token_id``"; here
the attention mask says which tokens are real, which also works when the pad token is the end
token (GPT-2 pads with ``eos``, so a rule based on the token id would skip a real final ``eos``).

Builds on ``llm/reward_model_loss``: these rewards are what the Bradley-Terry loss compares.
"""
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
    ### BEGIN SOLUTION
    positions = torch.arange(attention_mask.shape[1], device=attention_mask.device)   # (T,)
    return (positions * attention_mask.long()).argmax(dim=1)                           # (B,)
    ### END SOLUTION


class RewardHead(nn.Module):
    """A linear head to one scalar, read at each row's last real token.

    ``self.score = nn.Linear(hidden_size, 1, bias=False)`` -- the name and the missing bias are
    those of Hugging Face's ``*ForSequenceClassification.score``, so its weights load as they are
    (``load_state_dict({"score.weight": w})`` with ``w`` of shape ``(1, hidden_size)``).
    """

    def __init__(self, hidden_size: int):
        super().__init__()
        ### BEGIN SOLUTION
        self.score = nn.Linear(hidden_size, 1, bias=False)
        ### END SOLUTION

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
        ### BEGIN SOLUTION
        last = last_token_index(attention_mask)                                # (B,)
        rows = torch.arange(hidden_states.shape[0], device=hidden_states.device)
        pooled = hidden_states[rows, last]                                     # (B, H)
        return self.score(pooled).squeeze(-1)                                  # (B,)
        ### END SOLUTION
