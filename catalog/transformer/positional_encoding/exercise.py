"""Sinusoidal positional encoding: telling a permutation-blind model where each token is.

Self-attention treats its input as a *set*: permute the tokens and the outputs are permuted the
same way.  The original Transformer (Vaswani et al., "Attention Is All You Need", 2017, section
3.5) fixes this by adding to each token's embedding a vector that depends only on its position,
made of sines and cosines whose wavelengths grow geometrically from 2*pi to base * 2*pi:

    PE[pos, 2i]     = sin(pos / base ** (2i / d_model))
    PE[pos, 2i + 1] = cos(pos / base ** (2i / d_model))          (base = 10000)

Columns 2i and 2i+1 share one frequency, so each pair is a point on the unit circle turning at
its own speed.  That makes PE[pos + k] a fixed rotation of PE[pos] (the same for every pos), which
is why the authors hoped the model could attend by relative position.  The table has no
parameters and extends to any length.

Implement the table (as DistilBERT's ``create_sinusoidal_embeddings`` in Hugging Face transformers
builds it -- interleaved sin/cos, odd widths allowed) and the module that adds it to a batch of
embeddings (as in the PyTorch tutorial's ``PositionalEncoding``, but batch first).
"""
import math

import torch
import torch.nn as nn


def sinusoidal_positional_encoding(max_len: int, d_model: int, base: float = 10000.0,
                                   dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """The sinusoidal position table ``PE`` of shape ``[max_len, d_model]``.

    Args:
        max_len: number of positions (rows), >= 1; row ``pos`` encodes position ``pos``.
        d_model: width of the encoding (columns), >= 1, odd allowed.
        base: the wavelength base (10000 in the paper).
        dtype: floating dtype of the result (float32 and float64 are graded).  The values must be
            as accurate as that dtype allows: a float64 table agrees with the exact formula to
            1e-10 (a float32 computation cast up is not enough), a float32 table to within the
            float32 rounding of the angle (about 2e-7 * max_len).  Computing in a more precise
            dtype and casting down is fine.

    Column ``j`` uses the angle ``pos / base ** ((j - j % 2) / d_model)``: even columns hold its
    sine, odd columns its cosine (pairs ``(2i, 2i+1)`` share a frequency, interleaved, not sines in
    the first half and cosines in the second).  When ``d_model`` is odd the last column is the sine
    of the frequency ``base ** (-(d_model - 1) / d_model)`` and has no cosine partner.

    Returns:
        a new tensor ``[max_len, d_model]`` of ``dtype`` (not requiring grad); row 0 is
        ``[0, 1, 0, 1, ...]``.
    """
    ### BEGIN SOLUTION
    pos = torch.arange(max_len, dtype=dtype).unsqueeze(1)                      # (max_len, 1)
    two_i = torch.arange(0, d_model, 2, dtype=dtype)                           # (ceil(d/2),)
    inv_freq = torch.exp(two_i * (-math.log(base) / d_model))                  # base ** (-2i / d)
    angle = pos * inv_freq                                                     # (max_len, ceil(d/2))
    pe = torch.zeros(max_len, d_model, dtype=dtype)
    pe[:, 0::2] = torch.sin(angle)
    pe[:, 1::2] = torch.cos(angle[:, : d_model // 2])                         # odd d: last sine has no cosine
    return pe
    ### END SOLUTION


class PositionalEncoding(nn.Module):
    """Adds the sinusoidal table to batch-first embeddings, then applies dropout.

    Args:
        d_model: width of the embeddings.
        max_len: the longest ``offset + T`` the module accepts.
        dropout: dropout probability applied to the *sum* (0 disables it); like ``nn.Dropout`` it
            acts only in training mode.
        base: the wavelength base of the table.

    The table is stored as a buffer ``pe`` of shape ``[max_len, d_model]`` (float32, registered with
    ``register_buffer`` so it is saved in ``state_dict`` and moves with ``.to()``), never as a
    parameter: the module has no trainable parameters.  The caller scales the embeddings (the
    paper multiplies them by sqrt(d_model)); this module does not.
    """

    def __init__(self, d_model: int, max_len: int = 5000, dropout: float = 0.0, base: float = 10000.0):
        super().__init__()
        ### BEGIN SOLUTION
        self.dropout = nn.Dropout(dropout)
        self.register_buffer("pe", sinusoidal_positional_encoding(max_len, d_model, base))
        ### END SOLUTION

    def forward(self, x: torch.Tensor, offset: int = 0) -> torch.Tensor:
        """``dropout(x + pe[offset : offset + T])``.

        Args:
            x: embeddings ``[B, T, d_model]`` (batch first), any floating dtype.
            offset: position of ``x[:, 0]`` (e.g. the number of tokens already decoded), >= 0.

        Returns:
            a new tensor ``[B, T, d_model]`` of ``x``'s dtype (the table is cast to it): token
            ``t`` of every batch element gets the encoding of position ``offset + t``.  ``x`` itself
            is not modified.  Differentiable with respect to ``x``.

        Raises:
            ValueError: if ``offset + T > max_len``.
        """
        ### BEGIN SOLUTION
        T = x.size(1)
        if offset + T > self.pe.size(0):
            raise ValueError(f"positions {offset}..{offset + T - 1} exceed max_len={self.pe.size(0)}")
        pe = self.pe[offset: offset + T].to(x.dtype)                           # (T, d_model)
        return self.dropout(x + pe)                                            # broadcast over B
        ### END SOLUTION
