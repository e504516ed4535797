"""Attention masks: causal, padding, and the two forms attention code consumes.

Attention lets every query look at every key; masks take some keys away.  Two reasons dominate:

* **causal** -- a decoder predicting token t+1 must not see tokens after t, so query i may attend
  to key j only when j <= i (the lower triangle, diagonal included);
* **padding** -- sequences of a batch have different lengths and are padded to a common T; pad
  positions are not tokens, so no query may attend to them.

The two combine into one boolean mask ``[B, 1, T, T]`` (True = "may attend"; the 1 broadcasts over
heads) -- the form Hugging Face transformers builds in ``masking_utils.sdpa_mask`` and
``torch.nn.functional.scaled_dot_product_attention`` accepts.  Older code adds a float mask to the
logits instead: 0 where allowed and -inf where blocked, the form
``torch.nn.Transformer.generate_square_subsequent_mask`` returns.

Write the pieces: the causal mask, padding masks from lengths (right padding) or from pad ids (any
side), their combination, and the conversion to an additive mask.  No function modifies its arguments.
"""
from typing import Optional

import torch


def causal_mask(T: int, device: Optional[torch.device] = None) -> torch.Tensor:
    """The causal mask ``[T, T]``, bool: entry ``[i, j]`` is True iff ``j <= i``.

    Query i may attend to itself and to earlier keys, never to later ones.  ``T >= 1``.
    """
    ### BEGIN SOLUTION
    return torch.ones(T, T, dtype=torch.bool, device=device).tril()
    ### END SOLUTION


def lengths_to_padding_mask(lengths: torch.Tensor, max_len: Optional[int] = None) -> torch.Tensor:
    """Padding mask for right-padded sequences: ``[B, T]`` bool, True on real tokens.

    Args:
        lengths: integer tensor ``[B]``; sequence b occupies positions ``0 .. lengths[b] - 1``
            (0 allowed: an all-padding row).
        max_len: T, the padded length; defaults to ``max(lengths)`` (0 when every length is 0 or
            ``lengths`` is empty, giving ``[B, 0]``).

    Returns:
        ``mask[b, t] = t < lengths[b]``, dtype bool.  ``lengths`` is not modified.

    Raises:
        ValueError: if ``max_len`` is smaller than the longest sequence.
    """
    ### BEGIN SOLUTION
    longest = int(lengths.max()) if lengths.numel() else 0
    if max_len is None:
        max_len = longest
    elif max_len < longest:
        raise ValueError(f"max_len={max_len} is shorter than the longest sequence ({longest})")
    positions = torch.arange(max_len, device=lengths.device)                   # (T,)
    return positions.unsqueeze(0) < lengths.unsqueeze(1)                       # (B, T)
    ### END SOLUTION


def ids_to_padding_mask(input_ids: torch.Tensor, pad_id: int) -> torch.Tensor:
    """Padding mask from token ids: ``[B, T]`` bool, True where ``input_ids != pad_id``.

    Works for left padding, right padding, or pads anywhere; ``pad_id`` may be any integer (0,
    50256, -100, ...).  This is the tokenizer's ``attention_mask`` (1 = real token) as a bool tensor.
    """
    ### BEGIN SOLUTION
    return input_ids != pad_id
    ### END SOLUTION


def build_attention_mask(padding_mask: torch.Tensor, causal: bool = True) -> torch.Tensor:
    """Combine a padding mask (and the causal mask) into the ``[B, 1, T, T]`` mask attention uses.

    Args:
        padding_mask: ``[B, T]``, True (or 1) on real tokens and False (or 0) on padding; bool or
            an integer 0/1 tensor such as a tokenizer's ``attention_mask``.
        causal: whether query i is also limited to keys ``j <= i``.

    Returns:
        bool ``[B, 1, T, T]``: entry ``[b, 0, i, j]`` is True iff key j of sequence b is a real token
        and (when ``causal``) ``j <= i``.  Only *keys* are masked: a query at a pad position still
        attends to the real keys (its output is simply ignored later), exactly as Hugging Face's
        ``sdpa_mask``.  So with left padding and ``causal=True`` the rows of the leading pad queries
        are all False -- leave them so.
    """
    ### BEGIN SOLUTION
    B, T = padding_mask.shape
    keys = padding_mask.bool().view(B, 1, 1, T)                                # (B, 1, 1, T): per key
    if causal:
        keys = keys & causal_mask(T, device=padding_mask.device)               # (B, 1, T, T)
    return keys.expand(B, 1, T, T).clone()                                     # (B, 1, T, T)
    ### END SOLUTION


def to_additive_mask(mask: torch.Tensor, dtype: torch.dtype = torch.float32,
                     fill: Optional[float] = None) -> torch.Tensor:
    """Turn a boolean mask (True = may attend) into an additive one for ``logits + mask``.

    Args:
        mask: bool tensor of any shape.
        dtype: floating dtype of the result.
        fill: the value of blocked entries; None means ``-inf`` (torch's
            ``generate_square_subsequent_mask`` convention).  Hugging Face passes
            ``torch.finfo(dtype).min`` so that a fully blocked row gives uniform weights, not NaN.

    Returns:
        a tensor of ``mask``'s shape and ``dtype``: exactly 0.0 where ``mask`` is True and ``fill``
        (or -inf) where it is False.  ``to_additive_mask(causal_mask(T))`` equals
        ``torch.nn.Transformer.generate_square_subsequent_mask(T)``.
    """
    ### BEGIN SOLUTION
    blocked = float("-inf") if fill is None else fill
    out = torch.zeros(mask.shape, dtype=dtype, device=mask.device)
    return out.masked_fill(~mask, blocked)
    ### END SOLUTION
