# CORRECT, written differently: scores every position, then gathers the last real one, found from the flipped mask.
import torch
from torch import nn


def last_token_index(attention_mask):
    T = attention_mask.shape[1]
    return T - 1 - attention_mask.bool().flip(1).long().argmax(dim=1)


class RewardHead(nn.Module):
    def __init__(self, hidden_size):
        super().__init__()
        self.score = nn.Linear(hidden_size, 1, bias=False)

    def forward(self, hidden_states, attention_mask):
        per_position = self.score(hidden_states)[..., 0]                       # (B, T)
        last = last_token_index(attention_mask)
        return per_position.gather(1, last[:, None])[:, 0]
