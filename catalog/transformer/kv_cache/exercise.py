"""Incremental decoding with a key/value cache.

A decoder generates one token at a time, and each new token attends to every token before it.
Recomputing the keys and values of the whole prefix at every step costs O(T^2) projections for T
tokens.  But under a causal mask the keys and values of earlier positions never change once
computed, so a decoder can keep them -- the *KV cache* -- and at each step project only the new
tokens, append their keys and values, and attend from the new queries to everything cached.
Every LLM inference engine does this (Hugging Face's ``past_key_values``, vLLM's paged cache);
it trades memory (2 * layers * T * d_model numbers per sequence) for time.

Implement nanoGPT's causal self-attention (Karpathy's ``model.py``: parameters ``c_attn`` and
``c_proj``) with a cache.  The cache is passed in and returned, never kept inside the module, so
one module can serve many sequences, and a cache can be reused to branch (as beam search does).
Decoding a sequence in any split -- token by token, or a prompt then chunks -- must give the same
outputs as attending over the whole sequence at once with a causal mask.
"""
import math
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

Cache = tuple[torch.Tensor, torch.Tensor]


class CachedCausalSelfAttention(nn.Module):
    """Multi-head causal self-attention with a key/value cache (nanoGPT's parameters).

    Args:
        n_embd: E, the width of the input and output features.
        n_head: H; E divisible by H, each head has width hd = E // H.

    Parameters (names and shapes exactly as nanoGPT's ``CausalSelfAttention``, bias on):
        ``c_attn``: ``nn.Linear(E, 3E)``, whose output splits along the last dim into the queries,
        keys and values, in that order, each [.., E] and then into H heads of width hd (head h
        takes features ``h * hd : (h + 1) * hd``);
        ``c_proj``: ``nn.Linear(E, E)``, applied to the heads' outputs placed side by side.
        No other parameters.
    """

    def __init__(self, n_embd: int, n_head: int):
        super().__init__()
        ### BEGIN SOLUTION
        assert n_embd % n_head == 0
        self.n_embd, self.n_head = n_embd, n_head
        self.c_attn = nn.Linear(n_embd, 3 * n_embd)
        self.c_proj = nn.Linear(n_embd, n_embd)
        ### END SOLUTION

    def forward(self, x: torch.Tensor, cache: Optional[Cache] = None) -> tuple[torch.Tensor, Cache]:
        """Attend from the new tokens ``x`` to the cached tokens and to themselves, causally.

        Args:
            x: ``[B, T_new, E]``, the features of the next ``T_new >= 1`` positions of each sequence.
            cache: None (nothing before ``x``: the first call, e.g. on the prompt) or the pair
                ``(k, v)`` returned by the previous call, each ``[B, H, T_past, hd]`` (T_past >= 0;
                an empty cache behaves like None).  Not modified.

        The new tokens sit at positions ``T_past .. T_past + T_new - 1``; the token at position t
        attends to the positions ``0 .. t`` (all cached ones and the new ones up to itself), with
        the usual ``softmax(q k^T / sqrt(hd))`` per head.  So, for any split of a sequence into
        chunks, feeding the chunks in order (passing each call's cache to the next) gives the same
        outputs as one call on the whole sequence.

        Returns:
            ``(y, (k, v))``: y ``[B, T_new, E]``; k and v ``[B, H, T_past + T_new, hd]``, the given
            cache with the new tokens' keys and values appended along dim 2 (the cached entries
            copied as they are, not recomputed).  ``k[b, h, t]`` is the key of position t in head h,
            that is ``c_attn``'s key slice for that token, head h's features.  Same dtype as ``x``;
            finite for large inputs (``x * 100``: huge logits); differentiable, with gradients flowing
            into the earlier calls through the cache.
        """
        ### BEGIN SOLUTION
        B, T, E = x.shape
        H, hd = self.n_head, E // self.n_head
        q, k, v = self.c_attn(x).split(E, dim=2)                        # each (B, T, E)
        q = q.view(B, T, H, hd).transpose(1, 2)                         # (B, H, T, hd)
        k = k.view(B, T, H, hd).transpose(1, 2)                         # (B, H, T, hd)
        v = v.view(B, T, H, hd).transpose(1, 2)                         # (B, H, T, hd)
        if cache is not None:
            k = torch.cat([cache[0], k], dim=2)                         # (B, H, T_past + T, hd)
            v = torch.cat([cache[1], v], dim=2)
        S = k.size(2)
        # New query i is at position S - T + i: it sees keys 0 .. S - T + i.  The triangle is
        # aligned bottom-right, so is_causal (top-left when T != S) would be wrong here.
        allowed = torch.ones(T, S, dtype=torch.bool, device=x.device).tril(diagonal=S - T)
        att = (q @ k.transpose(-2, -1)) / math.sqrt(hd)                 # (B, H, T, S)
        att = att.masked_fill(~allowed, float("-inf")).softmax(dim=-1)
        y = att @ v                                                     # (B, H, T, hd)
        y = y.transpose(1, 2).reshape(B, T, E)                          # (B, T, E): heads side by side
        return self.c_proj(y), (k, v)
        ### END SOLUTION
