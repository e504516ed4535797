"""The Transformer decoder layer: masked self-attention, cross-attention over the encoder's
output, and a feed-forward network -- each followed by "add & norm".

A decoder layer of "Attention Is All You Need" (Vaswani et al., 2017) has three sub-layers:

    x = LayerNorm(x + MaskedSelfAttention(x))          # each target position reads earlier targets
    x = LayerNorm(x + CrossAttention(x, memory))       # queries from x, keys and values from memory
    x = LayerNorm(x + FFN(x))                          # per position

``memory`` is the encoder's output (the source sentence, in translation).  The self-attention is
*causal*: target position i may read positions 0..i only, so that training on a whole target
sequence at once (teacher forcing) matches generating it one token at a time -- the model never
peeks at the token it must predict.  The cross-attention has no causal mask: every target position
may read the whole source (except its padding).

Implement the causal mask and the post-LN layer with the contract and the parameter names of
``torch.nn.TransformerDecoderLayer(batch_first=True)`` -- without calling it (nor
``nn.TransformerDecoder`` / ``nn.Transformer`` and its ``generate_square_subsequent_mask``).
``self_attn`` and ``multihead_attn`` may be ``torch.nn.MultiheadAttention`` modules (or the one you
wrote in ``transformer/attention``).
"""
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F


def causal_mask(size: int) -> torch.Tensor:
    """The decoder's self-attention mask in torch's boolean convention.

    Returns:
        a ``[size, size]`` bool tensor, True where query i may NOT attend to key j, i.e. j > i
        (strictly above the diagonal): every position sees itself and the positions before it.
    """
    ### BEGIN SOLUTION
    return torch.ones(size, size, dtype=torch.bool).triu(diagonal=1)
    ### END SOLUTION


class DecoderLayer(nn.Module):
    """A post-LN Transformer decoder layer, batch first.

    Args:
        d_model: E, the width of the target and memory features.
        nhead: H, the number of heads of both attentions (E divisible by H).
        dim_feedforward: the hidden width of the feed-forward network.
        dropout: dropout probability, applied only in training mode (as torch does: on the
            attention weights, after the activation, and on each sub-layer's output before the
            residual add).  In eval mode the layer is deterministic.
        activation: ``"relu"`` or ``"gelu"`` (the exact, erf-based GELU).
        layer_norm_eps: the ``eps`` of the three layer normalizations.

    Submodules (names and parameter shapes exactly as torch's layer, so weights copy across):
        ``self_attn`` and ``multihead_attn`` (the cross-attention): each with ``in_proj_weight
        [3E, E]``, ``in_proj_bias [3E]`` and ``out_proj`` (``nn.Linear(E, E)``), as
        ``nn.MultiheadAttention``; ``linear1``: ``nn.Linear(E, dim_feedforward)``; ``linear2``:
        ``nn.Linear(dim_feedforward, E)``; ``norm1``, ``norm2``, ``norm3`` (after self-attention,
        cross-attention and the FFN): ``nn.LayerNorm(E)``.  No other parameters.
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation: str = "relu", layer_norm_eps: float = 1e-5):
        super().__init__()
        ### BEGIN SOLUTION
        self.self_attn = nn.MultiheadAttention(d_model, nhead, dropout=dropout, batch_first=True)
        self.multihead_attn = nn.MultiheadAttention(d_model, nhead, dropout=dropout, batch_first=True)
        self.linear1 = nn.Linear(d_model, dim_feedforward)
        self.linear2 = nn.Linear(dim_feedforward, d_model)
        self.norm1 = nn.LayerNorm(d_model, eps=layer_norm_eps)
        self.norm2 = nn.LayerNorm(d_model, eps=layer_norm_eps)
        self.norm3 = nn.LayerNorm(d_model, eps=layer_norm_eps)
        self.dropout = nn.Dropout(dropout)      # inside the FFN, after the activation
        self.dropout1 = nn.Dropout(dropout)     # on the self-attention output
        self.dropout2 = nn.Dropout(dropout)     # on the cross-attention output
        self.dropout3 = nn.Dropout(dropout)     # on the FFN output
        self.activation = {"relu": F.relu, "gelu": F.gelu}[activation]
        ### END SOLUTION

    def forward(self, tgt: torch.Tensor, memory: torch.Tensor, tgt_mask: Optional[torch.Tensor] = None,
                memory_mask: Optional[torch.Tensor] = None, tgt_key_padding_mask: Optional[torch.Tensor] = None,
                memory_key_padding_mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Run the layer on a batch of target sequences attending to their source ``memory``.

        Args:
            tgt: ``[B, T, E]`` target features (not modified).
            memory: ``[B, S, E]`` the encoder's output (not modified); S may differ from T.
            tgt_mask: optional boolean ``[T, T]`` or ``[B * H, T, T]`` mask of the self-attention,
                True = query i may NOT attend to key j (``causal_mask(T)`` makes the decoder causal).
            memory_mask: optional boolean ``[T, S]`` or ``[B * H, T, S]`` mask of the cross-attention,
                same convention.
            tgt_key_padding_mask: optional boolean ``[B, T]``, True = padding target position (hidden
                from the self-attention's queries).
            memory_key_padding_mask: optional boolean ``[B, S]``, True = padding source position
                (hidden from the cross-attention's queries).
            ``[B * H, ...]`` masks are indexed ``b * H + h``.  A key blocked by either of its masks is
            blocked.

        Returns:
            ``[B, T, E]`` with the dtype of ``tgt``; equal (in eval mode, or with dropout 0) to
            ``torch.nn.TransformerDecoderLayer(..., batch_first=True)`` holding the same parameter
            values, also for large inputs (``tgt`` and ``memory`` times 100, or plus 10000: finite,
            and still equal).
            Outputs at target padding positions are not graded; every query keeps at least
            one allowed key in each attention.
        """
        ### BEGIN SOLUTION
        x = tgt
        sa = self.self_attn(x, x, x, attn_mask=tgt_mask, key_padding_mask=tgt_key_padding_mask,
                            need_weights=False)[0]                                  # (B, T, E)
        x = self.norm1(x + self.dropout1(sa))
        ca = self.multihead_attn(x, memory, memory, attn_mask=memory_mask,         # queries from the target,
                                 key_padding_mask=memory_key_padding_mask,         # keys and values from
                                 need_weights=False)[0]                             # the source: (B, T, E)
        x = self.norm2(x + self.dropout2(ca))
        ff = self.linear2(self.dropout(self.activation(self.linear1(x))))          # (B, T, E)
        x = self.norm3(x + self.dropout3(ff))
        return x
        ### END SOLUTION
