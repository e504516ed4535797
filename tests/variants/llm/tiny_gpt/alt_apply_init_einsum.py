# CORRECT, written differently: GPT-2's initialisation through self.apply (no c_proj scaling), AdamW with its default weight decay, attention through einsum with an additive -inf bias built from positions, the MLP as an nn.Sequential-free pair of Linear modules, and generation that feeds the last sampled token too.
import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F


class CharTokenizer:
    def __init__(self, text):
        self.itos = sorted({c for c in text})
        self.vocab_size = len(self.itos)
        self.index = dict(zip(self.itos, range(self.vocab_size)))

    def encode(self, s):
        return torch.as_tensor([self.index[c] for c in s], dtype=torch.long)

    def decode(self, ids):
        return "".join(map(self.itos.__getitem__, [int(i) for i in ids]))


@dataclass
class GPTConfig:
    vocab_size: int
    block_size: int
    n_layer: int
    n_head: int
    n_embd: int


class Attn(nn.Module):
    def __init__(self, E, H):
        super().__init__()
        self.H = H
        self.c_attn = nn.Linear(E, 3 * E)
        self.c_proj = nn.Linear(E, E)

    def forward(self, x, past):
        B, T, E = x.shape
        q, k, v = self.c_attn(x).chunk(3, dim=-1)
        q, k, v = (t.unflatten(-1, (self.H, E // self.H)).permute(0, 2, 1, 3) for t in (q, k, v))
        if past is not None:
            k, v = torch.cat((past[0], k), 2), torch.cat((past[1], v), 2)
        S = k.shape[2]
        qpos = torch.arange(S - T, S)[:, None]
        bias = torch.zeros(T, S).masked_fill(torch.arange(S)[None, :] > qpos, -math.inf)
        w = (torch.einsum("bhtd,bhsd->bhts", q, k) / math.sqrt(E // self.H) + bias).softmax(-1)
        y = torch.einsum("bhts,bhsd->bhtd", w, v).permute(0, 2, 1, 3).flatten(2)
        return self.c_proj(y), (k, v)


class MLP(nn.Module):
    def __init__(self, E):
        super().__init__()
        self.c_fc, self.c_proj = nn.Linear(E, 4 * E), nn.Linear(4 * E, E)

    def forward(self, x):
        return self.c_proj(F.gelu(self.c_fc(x)))


class Block(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.ln_1, self.ln_2 = nn.LayerNorm(config.n_embd), nn.LayerNorm(config.n_embd)
        self.attn, self.mlp = Attn(config.n_embd, config.n_head), MLP(config.n_embd)

    def forward(self, x, past=None):
        a, kv = self.attn(self.ln_1(x), past)
        x = x + a
        return x + self.mlp(self.ln_2(x)), kv


class TinyGPT(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.config = config
        self.transformer = nn.ModuleDict({
            "wte": nn.Embedding(config.vocab_size, config.n_embd),
            "wpe": nn.Embedding(config.block_size, config.n_embd),
            "h": nn.ModuleList(Block(config) for _ in range(config.n_layer)),
            "ln_f": nn.LayerNorm(config.n_embd),
        })
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        self.transformer.wte.weight = self.lm_head.weight       # tied the other way round
        self.apply(self._init)

    @staticmethod
    def _init(module):
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def forward(self, idx, cache=None):
        start = cache[0][0].shape[2] if cache else 0
        if start + idx.shape[1] > self.config.block_size:
            raise ValueError("sequence longer than block_size")
        x = self.transformer.wte(idx) + self.transformer.wpe(torch.arange(start, start + idx.shape[1]))
        caches = []
        for i, block in enumerate(self.transformer.h):
            x, kv = block(x, cache[i] if cache else None)
            caches.append(kv)
        return self.lm_head(self.transformer.ln_f(x)), caches


def count_parameters(config):
    E = config.n_embd
    layer = 4 * E + 3 * E * (E + 1) + E * (E + 1) + 4 * E * (E + 1) + E * (4 * E + 1)
    return (config.vocab_size + config.block_size) * E + config.n_layer * layer + 2 * E


def get_batch(data, batch_size, block_size, generator):
    starts = torch.randint(len(data) - block_size, (batch_size,), generator=generator)
    offsets = torch.arange(block_size)
    return data[starts[:, None] + offsets], data[starts[:, None] + offsets + 1]


def train(model, data, steps, batch_size, block_size, lr, generator):
    opt = torch.optim.AdamW(model.parameters(), lr=lr)
    history = []
    for _ in range(steps):
        x, y = get_batch(data, batch_size, block_size, generator)
        logits, _ = model(x)
        loss = F.cross_entropy(logits.flatten(0, 1), y.flatten())
        opt.zero_grad()
        loss.backward()
        opt.step()
        history.append(loss.item())
    return history


@torch.no_grad()
def generate(model, idx, max_new_tokens, temperature=1.0, generator=None):
    logits, cache = model(idx)
    tokens = [idx]
    for _ in range(max_new_tokens):
        probs = (logits[:, -1] / temperature).softmax(-1)
        new = torch.multinomial(probs, 1, generator=generator)
        tokens.append(new)
        logits, cache = model(new, cache)
    return torch.cat(tokens, 1)
