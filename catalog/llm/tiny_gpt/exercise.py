"""A tiny GPT, end to end: tokenizer, model, training loop, and sampling with a KV cache.

Everything a decoder-only language model needs fits in one file (Karpathy's nanoGPT): a
tokenizer turning text into integer ids, a stack of pre-LayerNorm transformer blocks with causal
self-attention (Radford et al., GPT-2, 2019), a loop that samples random windows of the text and
minimises next-token cross-entropy with AdamW, and a sampler that feeds its own output back in,
keeping each layer's keys and values so that a new token costs one position of work.

Build it, with nanoGPT's parameter names so that a GPT-2 checkpoint's layout (and Hugging Face's
``GPT2LMHeadModel`` with ``activation_function="gelu"``) maps onto it.  The graders check what
such a model must do: the same logits as GPT-2's computation for the same weights, no information
flowing from later tokens to earlier logits, cached decoding equal to recomputing everything, the
parameter count of the architecture, and a training run on a small text that really learns.
Builds on ``transformer/attention``, ``transformer/kv_cache``, ``nlp/causal_lm_loss`` and
``nlp/temperature_sampling``.
"""
import math
from dataclasses import dataclass
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

Cache = list[tuple[torch.Tensor, torch.Tensor]]


class CharTokenizer:
    """A character-level tokenizer.

    Args:
        text: the training text; the vocabulary is its distinct characters, SORTED (so id 0 is the
            smallest character, e.g. ``"\\n"`` or ``" "``).

    Attributes:
        vocab_size: the number of distinct characters.
    """

    def __init__(self, text: str):
        ### BEGIN SOLUTION
        self.chars = sorted(set(text))
        self.vocab_size = len(self.chars)
        self.stoi = {c: i for i, c in enumerate(self.chars)}
        ### END SOLUTION

    def encode(self, s: str) -> torch.Tensor:
        """The ids of the characters of ``s``: a 1-D long tensor of length ``len(s)``.  A character
        outside the vocabulary raises ``KeyError``."""
        ### BEGIN SOLUTION
        return torch.tensor([self.stoi[c] for c in s], dtype=torch.long)
        ### END SOLUTION

    def decode(self, ids) -> str:
        """The text of a sequence of ids (a 1-D tensor or a list of ints)."""
        ### BEGIN SOLUTION
        return "".join(self.chars[int(i)] for i in ids)
        ### END SOLUTION


@dataclass
class GPTConfig:
    """The model's sizes (given)."""
    vocab_size: int
    block_size: int        # the longest sequence, T_max (the number of position embeddings)
    n_layer: int
    n_head: int
    n_embd: int            # E, divisible by n_head


class TinyGPT(nn.Module):
    """nanoGPT's decoder-only transformer (biases on, dropout off, GELU in its exact erf form).

    Parameters (names and shapes exactly these -- the graders load weights by name):

    * ``transformer.wte.weight`` ``[V, E]`` token embedding; ``transformer.wpe.weight`` ``[T_max, E]``
      position embedding.
    * for each layer i in ``transformer.h.{i}.``: ``ln_1`` (``nn.LayerNorm(E)``), ``attn.c_attn``
      (``nn.Linear(E, 3E)``: queries, keys, values in that order, head h = features
      ``h*hd:(h+1)*hd`` of each), ``attn.c_proj`` (``nn.Linear(E, E)``), ``ln_2``
      (``nn.LayerNorm(E)``), ``mlp.c_fc`` (``nn.Linear(E, 4E)``), ``mlp.c_proj`` (``nn.Linear(4E, E)``).
    * ``transformer.ln_f`` (``nn.LayerNorm(E)``) and ``lm_head`` (``nn.Linear(E, V, bias=False)``)
      whose weight IS ``transformer.wte.weight`` (weight tying: one tensor, counted once).

    Block i maps x to ``x = x + attn(ln_1(x)); x = x + mlp(ln_2(x))`` with
    ``mlp(x) = c_proj(gelu(c_fc(x)))`` and ``attn`` causal multi-head self-attention with
    ``softmax(q k^T / sqrt(hd))``, heads side by side, then ``c_proj``.  The model maps ids to
    ``lm_head(ln_f(block_{L-1}(...block_0(wte(ids) + wpe(positions)))))``.

    Initialisation (GPT-2's): every weight matrix and both embeddings ~ N(0, 0.02**2) (scaling the
    two ``c_proj`` weights further by ``1/sqrt(2 n_layer)``, as nanoGPT does, is allowed), every
    bias 0, LayerNorms weight 1 and bias 0.  So an untrained model predicts an almost uniform
    distribution: its loss is close to ``ln V`` (the graders check the first training loss).
    """

    def __init__(self, config: GPTConfig):
        super().__init__()
        ### BEGIN SOLUTION
        self.config = config
        E = config.n_embd
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(config.vocab_size, E),
            wpe=nn.Embedding(config.block_size, E),
            h=nn.ModuleList([Block(config) for _ in range(config.n_layer)]),
            ln_f=nn.LayerNorm(E),
        ))
        self.lm_head = nn.Linear(E, config.vocab_size, bias=False)
        self.lm_head.weight = self.transformer.wte.weight          # weight tying
        for name, p in self.named_parameters():                    # GPT-2's initialisation
            if p.dim() == 2:
                std = 0.02 / math.sqrt(2 * config.n_layer) if name.endswith("c_proj.weight") else 0.02
                nn.init.normal_(p, mean=0.0, std=std)
            elif name.endswith(".bias"):
                nn.init.zeros_(p)
        ### END SOLUTION

    def forward(self, idx: torch.Tensor, cache: Optional[Cache] = None) -> tuple[torch.Tensor, Cache]:
        """Logits for every position of ``idx``, after the positions already in ``cache``.

        Args:
            idx: ``[B, T]`` long token ids.
            cache: None, or the cache a previous call returned: one ``(k, v)`` per layer, each
                ``[B, n_head, T_past, hd]``.  The tokens of ``idx`` sit at positions
                ``T_past .. T_past + T - 1`` (their position embeddings, and what they attend to).

        Returns:
            ``(logits, cache)``: logits ``[B, T, V]``, row t the next-token logits after position
            ``T_past + t``; the cache with these tokens' keys and values appended (a new list; the
            given one is not modified).

        Raises:
            ValueError: if ``T_past + T`` exceeds ``block_size``.
        """
        ### BEGIN SOLUTION
        B, T = idx.shape
        past = 0 if cache is None else cache[0][0].size(2)
        if past + T > self.config.block_size:
            raise ValueError(f"{past + T} positions, but block_size is {self.config.block_size}")
        pos = torch.arange(past, past + T, device=idx.device)                    # (T,)
        x = self.transformer.wte(idx) + self.transformer.wpe(pos)                # (B, T, E)
        new_cache = []
        for i, block in enumerate(self.transformer.h):
            x, layer_cache = block(x, None if cache is None else cache[i])
            new_cache.append(layer_cache)
        return self.lm_head(self.transformer.ln_f(x)), new_cache               # (B, T, V)
        ### END SOLUTION


class Block(nn.Module):
    """One pre-LayerNorm block (see TinyGPT); ``forward(x, layer_cache) -> (x, (k, v))``."""

    def __init__(self, config: GPTConfig):
        super().__init__()
        ### BEGIN SOLUTION
        E = config.n_embd
        self.n_head = config.n_head
        self.ln_1 = nn.LayerNorm(E)
        self.attn = nn.Module()
        self.attn.c_attn = nn.Linear(E, 3 * E)
        self.attn.c_proj = nn.Linear(E, E)
        self.ln_2 = nn.LayerNorm(E)
        self.mlp = nn.Module()
        self.mlp.c_fc = nn.Linear(E, 4 * E)
        self.mlp.c_proj = nn.Linear(4 * E, E)
        ### END SOLUTION

    def forward(self, x: torch.Tensor, layer_cache: Optional[tuple[torch.Tensor, torch.Tensor]] = None):
        ### BEGIN SOLUTION
        B, T, E = x.shape
        H, hd = self.n_head, E // self.n_head
        q, k, v = self.attn.c_attn(self.ln_1(x)).split(E, dim=2)                  # each (B, T, E)
        q, k, v = (t.view(B, T, H, hd).transpose(1, 2) for t in (q, k, v))        # (B, H, T, hd)
        if layer_cache is not None:
            k = torch.cat([layer_cache[0], k], dim=2)                              # (B, H, T_past + T, hd)
            v = torch.cat([layer_cache[1], v], dim=2)
        S = k.size(2)
        allowed = torch.ones(T, S, dtype=torch.bool, device=x.device).tril(S - T)   # bottom-right
        att = (q @ k.transpose(-2, -1)) / math.sqrt(hd)                            # (B, H, T, S)
        att = att.masked_fill(~allowed, float("-inf")).softmax(dim=-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, E)                             # (B, T, E)
        x = x + self.attn.c_proj(y)
        x = x + self.mlp.c_proj(F.gelu(self.mlp.c_fc(self.ln_2(x))))
        return x, (k, v)
        ### END SOLUTION


def count_parameters(config: GPTConfig) -> int:
    """The number of distinct parameters of ``TinyGPT(config)``, from the sizes alone (a formula,
    not by building the model): embeddings, per layer the two LayerNorms, attention and MLP with
    their biases, the final LayerNorm -- and the tied head counted once."""
    ### BEGIN SOLUTION
    V, T, L, E = config.vocab_size, config.block_size, config.n_layer, config.n_embd
    per_layer = 2 * (2 * E) + (3 * E * E + 3 * E) + (E * E + E) + (4 * E * E + 4 * E) + (4 * E * E + E)
    return V * E + T * E + L * per_layer + 2 * E
    ### END SOLUTION


def get_batch(data: torch.Tensor, batch_size: int, block_size: int, generator: torch.Generator):
    """Random training windows: ``ix = torch.randint(len(data) - block_size, (batch_size,),
    generator=generator)`` (one call), ``x[b] = data[ix[b] : ix[b] + block_size]`` and
    ``y[b] = data[ix[b] + 1 : ix[b] + block_size + 1]`` (the next tokens).  Both ``[B, block_size]``."""
    ### BEGIN SOLUTION
    ix = torch.randint(len(data) - block_size, (batch_size,), generator=generator)
    x = torch.stack([data[i:i + block_size] for i in ix.tolist()])
    y = torch.stack([data[i + 1:i + block_size + 1] for i in ix.tolist()])
    return x, y
    ### END SOLUTION


def train(model: TinyGPT, data: torch.Tensor, steps: int, batch_size: int, block_size: int, lr: float,
          generator: torch.Generator) -> list[float]:
    """Train ``model`` in place on the 1-D id tensor ``data`` for ``steps`` steps.

    Each step: one ``get_batch(data, batch_size, block_size, generator)``, the mean cross-entropy of
    the logits against ``y`` over all ``B * T`` positions, backward, one ``torch.optim.AdamW``
    step with learning rate ``lr`` (other settings yours; gradients zeroed every step).

    Returns:
        the ``steps`` training losses, as floats, in order.
    """
    ### BEGIN SOLUTION
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    losses = []
    model.train()
    for _ in range(steps):
        x, y = get_batch(data, batch_size, block_size, generator)
        logits, _ = model(x)
        loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), y.reshape(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses
    ### END SOLUTION


@torch.no_grad()
def generate(model: TinyGPT, idx: torch.Tensor, max_new_tokens: int, temperature: float = 1.0,
             generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """Sample ``max_new_tokens`` tokens after the prompts ``idx [B, T0]``, with the KV cache.

    First ``model(idx)`` on the whole prompt; then each step takes the last position's logits,
    divides them by ``temperature``, draws ``torch.multinomial(softmax(...), 1, generator=generator)``
    (one call per step, all B rows at once), and feeds ONLY the new token (with the cache) to the
    model -- the graders watch the calls: the prompt once, then one token at a time (feeding the
    last sampled token too is allowed but useless).  ``T0 + max_new_tokens`` must not exceed
    ``block_size``.

    Returns:
        ``[B, T0 + max_new_tokens]``: the prompts followed by the sampled tokens.
    """
    ### BEGIN SOLUTION
    logits, cache = model(idx)
    out = idx
    for step in range(max_new_tokens):
        probs = F.softmax(logits[:, -1] / temperature, dim=-1)                  # (B, V)
        nxt = torch.multinomial(probs, 1, generator=generator)                  # (B, 1)
        out = torch.cat([out, nxt], dim=1)
        if step + 1 < max_new_tokens:                                           # the last token needs no logits
            logits, cache = model(nxt, cache)
    return out
    ### END SOLUTION
