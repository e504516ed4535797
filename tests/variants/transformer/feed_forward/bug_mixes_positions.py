# BUG: a kernel-1 Conv1d port: meant to swap the T and d axes and back, but reshape() scrambles them instead of
# transposing, so values from different positions end up in one token's vector.
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
        shape = x.shape
        x = x.reshape(-1, shape[-2], shape[-1]) if x.dim() > 1 else x.reshape(1, 1, -1)
        x = x.reshape(x.shape[0], x.shape[2], x.shape[1]).transpose(1, 2)   # [N, d, T] by reshape, then back
        h = self.activation(self.linear1(x))
        return self.linear2(self.dropout(h)).reshape(shape)
