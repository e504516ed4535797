# BUG: nanoGPT habit: unpacks B, T, C = x.shape and flattens, so only 3-D inputs work.
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
        self.dropout = nn.Dropout(dropout)
        self.linear2 = nn.Linear(d_ff, d_model, bias=bias)

    def forward(self, x):
        B, T, C = x.shape
        h = self.activation(self.linear1(x.view(B * T, C)))
        return self.linear2(self.dropout(h)).view(B, T, C)
