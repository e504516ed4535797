"""The position-wise feed-forward network: the Transformer layer's other half.

Every Transformer layer is attention (which mixes information *across* positions) followed by a
small two-layer MLP applied to each position *separately and identically* (Vaswani et al., 2017,
section 3.3):

    FFN(x) = W2 · act(W1 · x + b1) + b2,        W1: d_model -> d_ff,  W2: d_ff -> d_model

with d_ff usually 4 · d_model and act = ReLU (the paper) or GELU (BERT, GPT-2).  The same weights
serve every position -- the paper calls it "two convolutions with kernel size 1" -- so the FFN
commutes with any reordering of the positions; all mixing across positions is attention's job.
Most of a Transformer's parameters live here.

Implement it as ``torch.nn.TransformerEncoderLayer`` does (``linear1``, ``activation``,
``dropout``, ``linear2`` -- the same parameter names, so weights copy across), without the
residual connection and layer norm around it, which belong to the layer.
"""
from typing import Callable, Union

import torch
import torch.nn as nn
import torch.nn.functional as F


class FeedForward(nn.Module):
    """``linear2(dropout(activation(linear1(x))))``, applied to every position independently.

    Args:
        d_model: width of the input and output.
        d_ff: width of the hidden layer.
        dropout: dropout probability on the hidden activations (after the activation, before
            ``linear2``); active only in training mode, like ``nn.Dropout``.
        activation: ``"relu"``, ``"gelu"`` (the exact erf form, ``F.gelu``'s default -- not the tanh
            approximation) or any callable mapping a tensor to a tensor of the same shape.
        bias: whether ``linear1`` and ``linear2`` have biases.

    Submodules (names and shapes exactly as in ``torch.nn.TransformerEncoderLayer``):
        ``linear1 = nn.Linear(d_model, d_ff)`` (weight ``[d_ff, d_model]``),
        ``linear2 = nn.Linear(d_ff, d_model)`` (weight ``[d_model, d_ff]``),
        ``dropout = nn.Dropout(dropout)``; no other parameters.

    Raises:
        ValueError: if ``activation`` is a string other than "relu" or "gelu".
    """

    def __init__(self, d_model: int, d_ff: int, dropout: float = 0.0,
                 activation: Union[str, Callable[[torch.Tensor], torch.Tensor]] = "relu", bias: bool = True):
        super().__init__()
        ### BEGIN SOLUTION
        if isinstance(activation, str):
            if activation not in ("relu", "gelu"):
                raise ValueError(f"activation must be 'relu' or 'gelu', not {activation!r}")
            activation = F.relu if activation == "relu" else F.gelu
        self.activation = activation
        self.linear1 = nn.Linear(d_model, d_ff, bias=bias)
        self.dropout = nn.Dropout(dropout)
        self.linear2 = nn.Linear(d_ff, d_model, bias=bias)
        ### END SOLUTION

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the FFN to ``x`` of shape ``[..., d_model]`` (any number of leading dims).

        Returns:
            a tensor ``[..., d_model]`` of ``x``'s dtype.  Output position t depends only on input
            position t, with the same weights everywhere.  Differentiable in ``x`` and every parameter.
        """
        ### BEGIN SOLUTION
        h = self.activation(self.linear1(x))          # (..., d_ff)
        return self.linear2(self.dropout(h))          # (..., d_model)
        ### END SOLUTION
