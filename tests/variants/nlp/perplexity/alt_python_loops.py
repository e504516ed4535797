# CORRECT, written differently: token-by-token loops with a hand-written logsumexp (float64 throughout,
# cast back at the end), and the sliding window as "for each target, the window that scores it".
import math

import torch


def _nll_lists(logits, input_ids, attention_mask):
    x = logits.to(torch.float64)
    B, T, _ = x.shape
    per_seq = []
    for b in range(B):
        terms = []
        for t in range(1, T):
            if attention_mask is not None and not bool(attention_mask[b, t]):
                continue
            row = x[b, t - 1]
            m = row.max()
            lse = m + torch.log(torch.exp(row - m).sum())
            terms.append(lse - row[input_ids[b, t]])
        per_seq.append(terms)
    return per_seq


def _out(value, logits):
    return value.to(torch.float64 if logits.dtype == torch.float64 else torch.float32)


def sequence_perplexities(logits, input_ids, attention_mask=None):
    out = []
    for terms in _nll_lists(logits, input_ids, attention_mask):
        mean = torch.stack(terms).mean() if terms else torch.tensor(float("nan"), dtype=torch.float64)
        out.append(torch.exp(mean))
    return _out(torch.stack(out), logits)


def corpus_perplexity(logits, input_ids, attention_mask=None):
    terms = [t for seq in _nll_lists(logits, input_ids, attention_mask) for t in seq]
    mean = torch.stack(terms).mean() if terms else torch.tensor(float("nan"), dtype=torch.float64)
    return _out(torch.exp(mean), logits)


def sliding_window_perplexity(model, input_ids, max_length, stride):
    N = int(input_ids.shape[0])
    starts = []
    b = 0
    while True:
        starts.append(b)
        if b + max_length >= N:
            break
        b += stride
    total, count = 0.0, 0
    prev_end = 0
    for b in starts:
        e = min(b + max_length, N)
        logp = torch.log_softmax(model(input_ids[b:e].reshape(1, -1))[0].to(torch.float64), dim=-1)
        scored = [t for t in range(b + 1, e) if t >= prev_end]
        total += sum(-float(logp[t - b - 1, int(input_ids[t])]) for t in scored)
        count += len(scored)
        prev_end = e
    return math.exp(total / count)
