# BUG: treats every non-'gelu' activation as ReLU, so callables and typos silently become ReLU.
import torch
import torch.nn as nn
import torch.nn.functional as F


class FeedForward(nn.Module):
    def __init__(self, d_model, d_ff, dropout=0.0, activation="relu", bias=True):
        super().__init__()
        activation = F.gelu if activation == "gelu" else F.relu
        self.activation = activation
        self.linear1 = nn.Linear(d_model, d_ff, bias=bias)
        self.dropout = nn.Dropout(dropout)
        self.linear2 = nn.Linear(d_ff, d_model, bias=bias)

    def forward(self, x):
        h = self.activation(self.linear1(x))
        return self.linear2(self.dropout(h))
