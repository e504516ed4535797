# BUG: ignores attention_mask: padding tokens are scored as if they were text
import math

import torch


def _nll(logits, input_ids, attention_mask):
    if logits.dtype != torch.float64:
        logits = logits.float()
    logp = torch.log_softmax(logits[:, :-1], dim=-1)
    targets = input_ids[:, 1:]
    nll = -logp.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
    counted = torch.ones_like(targets, dtype=torch.bool)
    return torch.where(counted, nll, torch.zeros_like(nll)), counted


def sequence_perplexities(logits, input_ids, attention_mask=None):
    nll, counted = _nll(logits, input_ids, attention_mask)
    return torch.exp(nll.sum(1) / counted.sum(1))


def corpus_perplexity(logits, input_ids, attention_mask=None):
    nll, counted = _nll(logits, input_ids, attention_mask)
    return torch.exp(nll.sum() / counted.sum())


def sliding_window_perplexity(model, input_ids, max_length, stride):
    N = input_ids.numel()
    total, count, prev_end = 0.0, 0, 0
    for begin in range(0, N, stride):
        end = min(begin + max_length, N)
        logp = torch.log_softmax(model(input_ids[begin:end][None])[0].double(), dim=-1)
        first = max(prev_end, begin + 1)
        for t in range(first, end):
            total -= logp[t - begin - 1, input_ids[t]].item()
        count += end - first
        prev_end = end
        if end == N:
            break
    return math.exp(total / count)
