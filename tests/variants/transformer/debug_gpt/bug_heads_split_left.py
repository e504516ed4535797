# BUG: all bugs fixed but the head split: a reshape straight to (B, H, T, hd) mixes positions across heads.
"""Debug this model: a small GPT with seven planted bugs.

A coding round at a top lab often hands you a model that runs -- no exception, every shape right --
and trains badly or generates nonsense, and asks you to find out why.  This is such a model: a
GPT-2-style decoder (nanoGPT's layout, the same as ``llm/tiny_gpt``) with seven realistic,
shape-preserving bugs in attention, the blocks, the position embeddings, the loss and sampling.

Every docstring below states what the code MUST do; the code does not always do it.  Find the
bugs and fix them (change as little as you like; the graders never look at your source, only at
what the model does).  Each graded behaviour earns its points as soon as every bug that breaks it
is fixed:

* the logits equal GPT-2's computation for the same weights;
* no information flows from a later token to an earlier logit, while each logit does depend on
  its own token;
* decoding with the KV cache gives the same logits as recomputing the whole sequence;
* ``lm_loss`` is the next-token cross-entropy, and training with it learns the text;
* ``generate`` samples like GPT-2 with temperature.

Useful tools: compare against a formula on a tiny input; change one token and see which logits
move; decode token by token and compare; check a loss on logits you constructed by hand.
Builds on ``llm/tiny_gpt`` (write that first, or read its reference, if the architecture is new).
"""
import math
from dataclasses import dataclass
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

Cache = list[tuple[torch.Tensor, torch.Tensor]]


@dataclass
class GPTConfig:
    vocab_size: int
    block_size: int        # the longest sequence (number of position embeddings)
    n_layer: int
    n_head: int
    n_embd: int            # E, divisible by n_head


class CausalSelfAttention(nn.Module):
    """Multi-head causal self-attention with a KV cache (nanoGPT's ``c_attn`` and ``c_proj``)."""

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.n_head = config.n_head
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd)   # queries, keys, values in that order
        self.c_proj = nn.Linear(config.n_embd, config.n_embd)

    def forward(self, x: torch.Tensor, layer_cache: Optional[tuple[torch.Tensor, torch.Tensor]] = None):
        """x ``[B, T, E]`` -> ``(y [B, T, E], (k, v))``.

        Head h uses features ``h*hd:(h+1)*hd`` (hd = E // n_head) of the queries, keys and values;
        keys and values are cached as ``[B, n_head, T_past + T, hd]``.  The T new tokens are the
        LAST T positions: new token i (position T_past + i) attends to positions 0 .. T_past + i
        only, with weights ``softmax(q k^T / sqrt(hd))``.  The heads' outputs are put side by side
        (head h at features ``h*hd:(h+1)*hd``) and projected by ``c_proj``.
        """
        B, T, E = x.shape
        H, hd = self.n_head, E // self.n_head
        q, k, v = self.c_attn(x).split(E, dim=2)                              # each (B, T, E)
        q, k, v = (t.reshape(B, H, T, hd) for t in (q, k, v))     # (B, H, T, hd)
        if layer_cache is not None:
            k = torch.cat([layer_cache[0], k], dim=2)                          # (B, H, T_past + T, hd)
            v = torch.cat([layer_cache[1], v], dim=2)
        S = k.size(2)
        allowed = torch.ones(T, S, dtype=torch.bool, device=x.device).tril(S - T)
        att = (q @ k.transpose(-2, -1)) / math.sqrt(hd)                        # (B, H, T, S)
        att = att.masked_fill(~allowed, float("-inf")).softmax(dim=-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, E)                         # (B, T, E)
        return self.c_proj(y), (k, v)


class MLP(nn.Module):
    """``c_proj(gelu(c_fc(x)))`` with the exact (erf) GELU."""

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.c_fc = nn.Linear(config.n_embd, 4 * config.n_embd)
        self.c_proj = nn.Linear(4 * config.n_embd, config.n_embd)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.c_proj(F.gelu(self.c_fc(x)))


class Block(nn.Module):
    """A pre-LayerNorm block: ``x = x + attn(ln_1(x)); x = x + mlp(ln_2(x))``."""

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_embd)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = nn.LayerNorm(config.n_embd)
        self.mlp = MLP(config)

    def forward(self, x: torch.Tensor, layer_cache=None):
        a, kv = self.attn(self.ln_1(x), layer_cache)
        x = x + a
        x = x + self.mlp(self.ln_2(x))
        return x, kv


class GPT(nn.Module):
    """The model: ``lm_head(ln_f(blocks(wte(ids) + wpe(positions))))``, lm_head tied to wte.

    Parameters are nanoGPT's: ``transformer.wte``, ``transformer.wpe``, ``transformer.h.{i}`` (a
    Block), ``transformer.ln_f``, and ``lm_head`` (no bias) whose weight IS ``transformer.wte.weight``.
    Initialisation as GPT-2: weights N(0, 0.02^2), biases 0.
    """

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.config = config
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(config.vocab_size, config.n_embd),
            wpe=nn.Embedding(config.block_size, config.n_embd),
            h=nn.ModuleList([Block(config) for _ in range(config.n_layer)]),
            ln_f=nn.LayerNorm(config.n_embd),
        ))
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        self.lm_head.weight = self.transformer.wte.weight
        for p in self.parameters():
            if p.dim() == 2:
                nn.init.normal_(p, std=0.02)

    def forward(self, idx: torch.Tensor, cache: Optional[Cache] = None) -> tuple[torch.Tensor, Cache]:
        """idx ``[B, T]`` -> ``(logits [B, T, V], cache)``.  The tokens of ``idx`` sit at positions
        ``T_past .. T_past + T - 1``, T_past being the length of the given cache (0 without one);
        their position embeddings are those positions'.  Raises ValueError past ``block_size``."""
        B, T = idx.shape
        past = 0 if cache is None else cache[0][0].size(2)
        if past + T > self.config.block_size:
            raise ValueError(f"{past + T} positions, but block_size is {self.config.block_size}")
        pos = torch.arange(past, past + T, device=idx.device)                  # (T,)
        x = self.transformer.wte(idx) + self.transformer.wpe(pos)              # (B, T, E)
        new_cache = []
        for i, block in enumerate(self.transformer.h):
            x, kv = block(x, None if cache is None else cache[i])
            new_cache.append(kv)
        return self.lm_head(self.transformer.ln_f(x)), new_cache


def lm_loss(model: GPT, idx: torch.Tensor) -> torch.Tensor:
    """The language-modelling loss of the sequences ``idx [B, T]``: the mean cross-entropy of the
    logits at positions ``0 .. T-2`` against the NEXT tokens ``idx[:, 1:]`` (each position
    predicts the token after it), over all ``B * (T - 1)`` predictions."""
    logits, _ = model(idx)                                                     # (B, T, V)
    return F.cross_entropy(logits[:, :-1].reshape(-1, logits.size(-1)), idx[:, 1:].reshape(-1))


@torch.no_grad()
def generate(model: GPT, idx: torch.Tensor, max_new_tokens: int, temperature: float = 1.0,
             generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """Sample ``max_new_tokens`` tokens after ``idx [B, T0]``: the prompt once through the model,
    then per step the last position's logits DIVIDED by ``temperature``, softmax, one
    ``torch.multinomial(probs, 1, generator=generator)`` for all rows, and only the new token (with
    the cache) back into the model.  Returns ``[B, T0 + max_new_tokens]``."""
    logits, cache = model(idx)
    out = idx
    for step in range(max_new_tokens):
        probs = F.softmax(logits[:, -1] / temperature, dim=-1)                 # (B, V)
        nxt = torch.multinomial(probs, 1, generator=generator)                 # (B, 1)
        out = torch.cat([out, nxt], dim=1)
        if step + 1 < max_new_tokens:
            logits, cache = model(nxt, cache)
    return out
