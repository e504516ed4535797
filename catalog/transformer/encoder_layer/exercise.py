"""The Transformer encoder layer: self-attention and a feed-forward network, each wrapped in a
residual connection and a layer normalization.

One encoder layer of "Attention Is All You Need" (Vaswani et al., 2017) is two sub-layers:

    x = LayerNorm(x + SelfAttention(x))          # every position reads every other position
    x = LayerNorm(x + FFN(x))                    # FFN(x) = linear2(activation(linear1(x))), per position

The residual connections give gradients a short path through a deep stack; the normalization
keeps each position's features at zero mean and unit variance (then a learned scale and shift).
That is the *post-LN* layer of the paper.  Most modern models (GPT-2 onward) use *pre-LN*,
which normalizes the input of each sub-layer and leaves the residual stream itself untouched:

    x = x + SelfAttention(LayerNorm(x))
    x = x + FFN(LayerNorm(x))

Pre-LN trains stably without learning-rate warm-up (Xiong et al., 2020, "On Layer Normalization
in the Transformer Architecture").

Implement the layer with the contract and the parameter names of
``torch.nn.TransformerEncoderLayer(batch_first=True)`` -- without calling it (nor
``nn.TransformerEncoder`` / ``nn.Transformer``).  ``self.self_attn`` may be a
``torch.nn.MultiheadAttention`` (or the one you wrote in ``transformer/attention``).
"""
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F


class EncoderLayer(nn.Module):
    """A Transformer encoder layer, batch first, post-LN by default.

    Args:
        d_model: E, the width of every position's features.
        nhead: H, the number of attention heads (E divisible by H).
        dim_feedforward: the hidden width of the feed-forward network.
        dropout: dropout probability, applied only in training mode (as torch does: on the
            attention weights, after the activation, and on each sub-layer's output before the
            residual add).  In eval mode the layer is deterministic.
        activation: ``"relu"`` or ``"gelu"`` (the exact, erf-based GELU), between the two linears.
        layer_norm_eps: the ``eps`` of both layer normalizations.
        norm_first: False (default) = post-LN, ``norm(x + sublayer(x))``; True = pre-LN,
            ``x + sublayer(norm(x))``, with no normalization of the layer's output.

    Submodules (names and parameter shapes exactly as torch's layer, so weights copy across):
        ``self_attn``: multi-head self-attention with ``in_proj_weight [3E, E]``,
        ``in_proj_bias [3E]`` and ``out_proj`` (``nn.Linear(E, E)``), as ``nn.MultiheadAttention``;
        ``linear1``: ``nn.Linear(E, dim_feedforward)``; ``linear2``: ``nn.Linear(dim_feedforward, E)``;
        ``norm1`` (around self-attention) and ``norm2`` (around the FFN): ``nn.LayerNorm(E)``.
        No other parameters.
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation: str = "relu", layer_norm_eps: float = 1e-5, norm_first: bool = False):
        super().__init__()
        ### BEGIN SOLUTION
        self.self_attn = nn.MultiheadAttention(d_model, nhead, dropout=dropout, batch_first=True)
        self.linear1 = nn.Linear(d_model, dim_feedforward)
        self.linear2 = nn.Linear(dim_feedforward, d_model)
        self.norm1 = nn.LayerNorm(d_model, eps=layer_norm_eps)
        self.norm2 = nn.LayerNorm(d_model, eps=layer_norm_eps)
        self.dropout = nn.Dropout(dropout)      # inside the FFN, after the activation
        self.dropout1 = nn.Dropout(dropout)     # on the self-attention output
        self.dropout2 = nn.Dropout(dropout)     # on the FFN output
        self.activation = {"relu": F.relu, "gelu": F.gelu}[activation]
        self.norm_first = norm_first
        ### END SOLUTION

    def forward(self, src: torch.Tensor, src_mask: Optional[torch.Tensor] = None,
                src_key_padding_mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Run the layer on a batch of sequences.

        Args:
            src: ``[B, L, E]`` float tensor (not modified).
            src_mask: optional boolean ``[L, L]`` (shared by the batch and heads) or
                ``[B * H, L, L]`` (index ``b * H + h``); True means query i may NOT attend to key j.
            src_key_padding_mask: optional boolean ``[B, L]``; True marks a padding position,
                which no query of that sequence may attend to.

        Returns:
            ``[B, L, E]``, the same dtype as ``src``; equal (in eval mode, or with dropout 0) to
            ``torch.nn.TransformerEncoderLayer(..., batch_first=True)`` holding the same parameter
            values, also for large inputs (``src * 100``, ``10000 + src``: finite, and still equal).
            Outputs *at* padding positions are not graded (torch's fast path on nested
            tensors returns zeros there); every sequence keeps at least one non-padding position
            and every query at least one allowed key.
        """
        ### BEGIN SOLUTION
        x = src

        def self_attention(h):
            h = self.self_attn(h, h, h, attn_mask=src_mask, key_padding_mask=src_key_padding_mask,
                               need_weights=False)[0]                      # (B, L, E)
            return self.dropout1(h)

        def feed_forward(h):
            h = self.linear2(self.dropout(self.activation(self.linear1(h))))   # (B, L, E)
            return self.dropout2(h)

        if self.norm_first:                     # pre-LN: the residual stream is never normalized
            x = x + self_attention(self.norm1(x))
            x = x + feed_forward(self.norm2(x))
        else:                                   # post-LN: add, then normalize
            x = self.norm1(x + self_attention(x))
            x = self.norm2(x + feed_forward(x))
        return x
        ### END SOLUTION
