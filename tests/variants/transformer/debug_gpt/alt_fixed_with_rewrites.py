# CORRECT, written differently: the bugs fixed by rewriting the parts around them -- heads with unflatten/permute, the mask from compared positions, the loss through log_softmax and gather, positions offset by the cache through a helper, temperature applied with torch.div.
import math
from dataclasses import dataclass
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class GPTConfig:
    vocab_size: int
    block_size: int
    n_layer: int
    n_head: int
    n_embd: int


class CausalSelfAttention(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.n_head = config.n_head
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd)
        self.c_proj = nn.Linear(config.n_embd, config.n_embd)

    def forward(self, x, layer_cache=None):
        B, T, E = x.shape
        heads = lambda t: t.unflatten(-1, (self.n_head, E // self.n_head)).permute(0, 2, 1, 3)   # noqa: E731
        q, k, v = map(heads, self.c_attn(x).chunk(3, dim=-1))
        if layer_cache is not None:
            k, v = torch.cat((layer_cache[0], k), 2), torch.cat((layer_cache[1], v), 2)
        S = k.shape[2]
        qpos = torch.arange(S - T, S).unsqueeze(1)
        scores = q @ k.transpose(-1, -2) * (E // self.n_head) ** -0.5
        scores = scores.masked_fill(torch.arange(S).unsqueeze(0) > qpos, -math.inf)
        y = scores.softmax(-1) @ v
        return self.c_proj(y.permute(0, 2, 1, 3).flatten(2)), (k, v)


class MLP(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.c_fc = nn.Linear(config.n_embd, 4 * config.n_embd)
        self.c_proj = nn.Linear(4 * config.n_embd, config.n_embd)

    def forward(self, x):
        return self.c_proj(F.gelu(self.c_fc(x)))


class Block(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_embd)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = nn.LayerNorm(config.n_embd)
        self.mlp = MLP(config)

    def forward(self, x, layer_cache=None):
        a, kv = self.attn(self.ln_1(x), layer_cache)
        h = x + a
        return h + self.mlp(self.ln_2(h)), kv


def positions(cache, T):
    start = cache[0][0].shape[2] if cache else 0
    return torch.arange(start, start + T)


class GPT(nn.Module):
    def __init__(self, config):
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

    def forward(self, idx, cache=None):
        pos = positions(cache, idx.shape[1])
        if pos[-1] >= self.config.block_size:
            raise ValueError("past block_size")
        x = self.transformer.wte(idx) + self.transformer.wpe(pos)
        out = []
        for i, block in enumerate(self.transformer.h):
            x, kv = block(x, cache[i] if cache else None)
            out.append(kv)
        return self.lm_head(self.transformer.ln_f(x)), out


def lm_loss(model, idx):
    logits, _ = model(idx)
    logp = F.log_softmax(logits[:, :-1], dim=-1)
    return -logp.gather(-1, idx[:, 1:, None]).mean()


@torch.no_grad()
def generate(model, idx, max_new_tokens, temperature=1.0, generator=None):
    logits, cache = model(idx)
    for step in range(max_new_tokens):
        probs = torch.div(logits[:, -1], temperature).softmax(-1)
        nxt = torch.multinomial(probs, 1, generator=generator)
        idx = torch.cat([idx, nxt], 1)
        if step + 1 < max_new_tokens:
            logits, cache = model(nxt, cache)
    return idx
