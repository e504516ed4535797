# BUG: a port of the guide's snippet: each window's mean loss is weighted by (number of labels - 1),
# one token short whenever windows overlap
import math

import torch


def _nll(logits, input_ids, attention_mask):
    if logits.dtype != torch.float64:
        logits = logits.float()
    logp = torch.log_softmax(logits[:, :-1], dim=-1)
    targets = input_ids[:, 1:]
    nll = -logp.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
    if attention_mask is None:
        counted = torch.ones_like(targets, dtype=torch.bool)
    else:
        counted = attention_mask[:, 1:].bool()
    return torch.where(counted, nll, torch.zeros_like(nll)), counted


def sequence_perplexities(logits, input_ids, attention_mask=None):
    nll, counted = _nll(logits, input_ids, attention_mask)
    return torch.exp(nll.sum(1) / counted.sum(1))


def corpus_perplexity(logits, input_ids, attention_mask=None):
    nll, counted = _nll(logits, input_ids, attention_mask)
    return torch.exp(nll.sum() / counted.sum())


def sliding_window_perplexity(model, input_ids, max_length, stride):
    seq_len = input_ids.numel()
    nll_sum, n_tokens, prev_end_loc = 0.0, 0, 0
    for begin_loc in range(0, seq_len, stride):
        end_loc = min(begin_loc + max_length, seq_len)
        trg_len = end_loc - prev_end_loc
        ids = input_ids[begin_loc:end_loc]
        target_ids = ids.clone()
        target_ids[:-trg_len] = -100
        logits = model(ids[None])[0].double()
        # what model(ids, labels=target_ids).loss computes: shift, then mean over labels != -100
        shift_labels = target_ids[1:]
        valid = shift_labels != -100
        logp = torch.log_softmax(logits[:-1], dim=-1)
        picked = logp[torch.arange(len(shift_labels)), shift_labels.clamp(min=0)]
        loss = -(picked[valid]).mean().item() if valid.any() else 0.0
        num_loss_tokens = int((target_ids != -100).sum()) - 1  # 'subtract batch_size due to internal label shift'
        nll_sum += loss * num_loss_tokens
        n_tokens += num_loss_tokens
        prev_end_loc = end_loc
        if end_loc == seq_len:
            break
    return math.exp(nll_sum / n_tokens)
