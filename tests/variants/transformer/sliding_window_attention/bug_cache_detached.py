# BUG: detaches what it keeps, so gradients no longer reach earlier chunks.
"""Sliding-window attention and its bounded KV cache (Longformer's local attention, Mistral 7B).

Full causal attention lets token t attend to all t + 1 tokens up to itself, so its cost and its
KV cache grow with the sequence.  Sliding-window attention lets each token attend only to the
``window`` most recent positions, itself included: key j is visible from query position p when
``p - window < j <= p``.  Information still travels further than ``window``: after n layers a
token can depend on about ``n * window`` earlier positions (Mistral: 32 layers x 4096).  And a
decoder need only keep the last ``window - 1`` positions' keys and values -- the cache stops
growing, which is why Mistral and Gemma use it.

Implement the mask, the attention, and the cache with the contract of Hugging Face transformers'
``DynamicSlidingWindowLayer`` (``transformers.cache_utils``).  Builds on ``transformer/attention``
(the softmax attention) and ``transformer/kv_cache`` (decoding with a cache, the bottom-right
causal triangle).
"""
import math
from typing import Optional

import torch


def sliding_window_mask(L: int, S: int, window: int, device: Optional[torch.device] = None) -> torch.Tensor:
    """Which keys each query may see, for ``L`` queries that are the LAST ``L`` of ``S`` positions.

    Query i sits at position ``p = S - L + i`` (bottom-right alignment, as after a KV cache; with
    L == S it is position i).  It may attend to key j (position j) when ``p - window < j <= p``:
    itself and the ``window - 1`` positions before it, never the future.

    Args:
        L, S: numbers of queries and keys, ``1 <= L <= S``.
        window: the window size, ``>= 1`` (1 = each query sees only itself; ``>= S`` = plain
            causal attention).

    Returns:
        A bool tensor ``[L, S]``, True where query i may attend to key j.
    """
    query_pos = torch.arange(S - L, S, device=device).unsqueeze(1)      # (L, 1): absolute positions
    key_pos = torch.arange(S, device=device).unsqueeze(0)               # (1, S)
    return (key_pos <= query_pos) & (key_pos > query_pos - window)      # (L, S)


def sliding_window_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, window: int) -> torch.Tensor:
    """Causal attention restricted to a sliding window.

    Args:
        q: ``[..., L, d]``, the queries of the last ``L`` positions.
        k: ``[..., S, d]``, the keys of positions ``0 .. S-1`` (``S >= L``; same leading dims).
        v: ``[..., S, dv]``.
        window: as in ``sliding_window_mask``.

    Returns:
        ``softmax(q k^T / sqrt(d) restricted to sliding_window_mask(L, S, window)) v``, shape
        ``[..., L, dv]``, the dtype of ``q``.  Every query sees at least itself, so no row is empty.
        Must stay finite for huge logits and be differentiable.
    """
    L, S = q.size(-2), k.size(-2)
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))            # (..., L, S)
    allowed = sliding_window_mask(L, S, window, device=q.device)
    scores = scores.masked_fill(~allowed, float("-inf"))
    return torch.softmax(scores, dim=-1) @ v                            # (..., L, dv)


class SlidingWindowCache:
    """A KV cache for sliding-window attention that never holds more than ``window - 1`` positions.

    The contract of transformers' ``DynamicSlidingWindowLayer(sliding_window=window)``:

    Attributes:
        window: the window size (>= 1).
        keys, values: the retained keys and values, ``[B, H, min(seen, window - 1), d]`` (the most
            recent positions, oldest first), or None before the first ``update``.
        seen: how many positions have been given to ``update`` so far (0 at first).
    """

    def __init__(self, window: int):
        self.window = window
        self.keys: Optional[torch.Tensor] = None
        self.values: Optional[torch.Tensor] = None
        self.seen = 0

    def update(self, k_new: torch.Tensor, v_new: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Add the keys and values of the next ``T_new >= 1`` positions.

        Args:
            k_new: ``[B, H, T_new, d]``; v_new: ``[B, H, T_new, dv]``.

        Returns:
            ``(k, v)``: the retained keys/values followed by the new ones, along dim 2 -- every key
            the new queries may need, oldest first (the new queries are the last T_new positions,
            so ``sliding_window_attention(q_new, k, v, window)`` is right).  Afterwards ``keys`` and
            ``values`` hold the last ``window - 1`` positions of these (all of them if fewer), and
            ``seen`` has grown by ``T_new``.  The tensors given are not modified; gradients flow.
        """
        self.seen += k_new.size(2)
        k, v = k_new, v_new
        if self.keys is not None:
            k = torch.cat([self.keys, k_new], dim=2)                    # (B, H, kept + T_new, d)
            v = torch.cat([self.values, v_new], dim=2)
        # Keep what the next query (position seen) may still see: positions seen - window + 1 ..
        # seen - 1, that is the last window - 1.  (A slice from -0 would keep everything.)
        start = max(k.size(2) - (self.window - 1), 0)
        self.keys, self.values = k[:, :, start:].detach(), v[:, :, start:].detach()
        return k, v
