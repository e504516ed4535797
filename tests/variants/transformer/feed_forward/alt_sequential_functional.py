# CORRECT, written differently: explicit weight matrices held in nn.Linear containers but applied with
# einsum; GELU written out with erf; dropout through F.dropout with the training flag passed on.
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def _gelu(z):
    return 0.5 * z * (1.0 + torch.erf(z / math.sqrt(2.0)))


class FeedForward(nn.Module):
    def __init__(self, d_model, d_ff, dropout=0.0, activation="relu", bias=True):
        super().__init__()
        table = {"relu": torch.relu, "gelu": _gelu}
        if isinstance(activation, str) and activation not in table:
            raise ValueError(activation)
        self.activation = table[activation] if isinstance(activation, str) else activation
        self.linear1 = nn.Linear(d_model, d_ff, bias=bias)
        self.linear2 = nn.Linear(d_ff, d_model, bias=bias)
        self.dropout = nn.Dropout(dropout)
        self.p = dropout

    def _linear(self, layer, x):
        y = torch.einsum("...i,oi->...o", x, layer.weight)
        return y if layer.bias is None else y + layer.bias

    def forward(self, x):
        h = self.activation(self._linear(self.linear1, x))
        h = F.dropout(h, self.p, training=self.training)
        return self._linear(self.linear2, h)
