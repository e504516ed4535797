# BUG: F.dropout(h, p) defaults to training=True, so dropout stays on in eval mode.
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
        self.linear1 = nn.Linear(d_model, d_ff, bias=bias)
        self.p = dropout
        self.linear2 = nn.Linear(d_ff, d_model, bias=bias)

    def forward(self, x):
        h = self.activation(self.linear1(x))
        return self.linear2(F.dropout(h, self.p))
