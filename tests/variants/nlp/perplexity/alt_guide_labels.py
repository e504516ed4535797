# CORRECT, written differently: HF-style labels -- input_ids with -100 at padding, F.cross_entropy with
# ignore_index -- and the guide's sliding loop with -100 labels, counting the valid shifted labels exactly.
import math


import torch
import torch.nn.functional as F


def _nll(logits, input_ids, attention_mask):
    labels = input_ids.clone()
    if attention_mask is not None:
        labels = labels.masked_fill(attention_mask == 0, -100)
    shift_logits = logits[:, :-1].to(torch.float64 if logits.dtype == torch.float64 else torch.float32)
    shift_labels = labels[:, 1:]
    nll = F.cross_entropy(shift_logits.transpose(1, 2), shift_labels, ignore_index=-100, reduction="none")
    return nll, shift_labels != -100


def sequence_perplexities(logits, input_ids, attention_mask=None):
    nll, valid = _nll(logits, input_ids, attention_mask)
    return (nll.sum(-1) / valid.sum(-1)).exp()


def corpus_perplexity(logits, input_ids, attention_mask=None):
    nll, valid = _nll(logits, input_ids, attention_mask)
    return (nll.sum() / valid.sum()).exp()


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
        num_loss_tokens = int(valid.sum())
        nll_sum += loss * num_loss_tokens
        n_tokens += num_loss_tokens
        prev_end_loc = end_loc
        if end_loc == seq_len:
            break
    return math.exp(nll_sum / n_tokens)
