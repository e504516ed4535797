# CORRECT, written differently: per-row distributions with the positive zeroed out (conditioning instead of redrawing), FIFO Vose queues, one-uniform alias sampling.
"""Negative sampling: condition each row's distribution on excluding its positive up front."""
from collections import deque

import torch


def unigram_distribution(counts, power=0.75):
    c = counts.double()
    seen = c > 0
    w = torch.zeros_like(c)
    w[seen] = torch.exp(power * torch.log(c[seen]))
    return w / w.sum()


def sample_negatives(probs, positives, k, generator):
    B = positives.shape[0]
    rows = probs.double().expand(B, -1).clone()                   # (B, V)
    rows[torch.arange(B), positives] = 0.0                         # P(w | w != positive), up to a constant
    return torch.multinomial(rows, k, replacement=True, generator=generator)


def build_alias_table(probs):
    n = probs.numel()
    mass = [float(p) * n for p in probs.double()]
    prob = torch.ones(n, dtype=torch.float64)
    alias = torch.arange(n)
    small = deque(i for i in range(n) if mass[i] < 1.0)
    large = deque(i for i in range(n) if mass[i] >= 1.0)
    while small and large:
        s = small.popleft()
        g = large[0]
        prob[s] = mass[s]
        alias[s] = g
        mass[g] = (mass[g] + mass[s]) - 1.0
        if mass[g] < 1.0:
            large.popleft()
            small.append(g)
    return prob, alias


def alias_sample(prob, alias, n, generator):
    x = torch.rand(n, generator=generator, dtype=torch.float64) * prob.numel()
    col = x.long().clamp(max=prob.numel() - 1)
    coin = x - col
    return torch.where(coin < prob[col], col, alias[col])
