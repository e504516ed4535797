# BUG: names the layers fc1 / fc2, so torch's state_dict (linear1 / linear2) does not load.
import torch
import torch.nn as nn
import torch.nn.functional as F


class FeedForward(nn.Module):
    def __init__(self, d_model, d_ff, dropout=0.0, activation="relu", bias=True):
        super().__init__()
        if isinstance(activation, str):
            if activation not in ("relu", "gelu"):
                raise ValueError(f"unknown activation {activation}")
            activation = F.relu if activation == "relu" else F.gelu
        self.activation = activation
        self.fc1 = nn.Linear(d_model, d_ff, bias=bias)
        self.dropout = nn.Dropout(dropout)
        self.fc2 = nn.Linear(d_ff, d_model, bias=bias)

    def forward(self, x):
        h = self.activation(self.fc1(x))
        return self.fc2(self.dropout(h))
