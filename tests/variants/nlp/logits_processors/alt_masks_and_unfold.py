# CORRECT, written differently: the penalty through a one-hot "seen" mask, n-grams found with tensor unfold and comparisons, min-p through log-probabilities, and the chain as a list of functions.
import math

import torch
import torch.nn.functional as F


def repetition_penalty(input_ids, scores, penalty):
    seen = torch.zeros_like(scores, dtype=torch.bool).scatter(1, input_ids, True)
    return torch.where(seen, torch.where(scores < 0, scores * penalty, scores / penalty), scores)


def no_repeat_ngram(input_ids, scores, n):
    B, T = input_ids.shape
    out = scores.clone()
    if T < n:
        return out
    grams = input_ids.unfold(1, n, 1)                                   # (B, T - n + 1, n)
    tail = input_ids[:, T - n + 1:]                                     # (B, n - 1)
    match = (grams[:, :, :n - 1] == tail[:, None, :]).all(-1)           # (B, T - n + 1)
    for b, i in match.nonzero().tolist():
        out[b, grams[b, i, -1]] = -math.inf
    return out


def min_p_filter(scores, min_p, min_tokens_to_keep=1):
    logp = F.log_softmax(scores, dim=-1)
    keep = logp >= logp.max(-1, keepdim=True).values + math.log(min_p) if min_p > 0 else torch.ones_like(logp, dtype=torch.bool)
    order = logp.argsort(-1, descending=True)[:, :min_tokens_to_keep]
    keep = keep.scatter(-1, order, True)
    return torch.where(keep, scores, torch.full_like(scores, -math.inf))


def process(input_ids, scores, penalty=1.0, ngram=0, min_p=0.0):
    steps = []
    if penalty != 1.0:
        steps.append(lambda s: repetition_penalty(input_ids, s, penalty))
    if ngram > 0:
        steps.append(lambda s: no_repeat_ngram(input_ids, s, ngram))
    if min_p > 0:
        steps.append(lambda s: min_p_filter(s, min_p))
    for step in steps:
        scores = step(scores)
    return scores
