# CORRECT, written differently: plain Python over the rows of the 2-D view, one row at a time,
# with the probabilities computed by hand in float64 (max subtracted first).
import math

import torch


def _rows(logits):
    return logits.reshape(-1, logits.shape[-1]).tolist()


def top_k_filter(logits, k):
    out = []
    for row in _rows(logits):
        threshold = sorted(row, reverse=True)[min(k, len(row)) - 1]
        out.append([x if x >= threshold else -math.inf for x in row])
    return torch.tensor(out, dtype=logits.dtype).reshape(logits.shape)


def top_p_filter(logits, p, min_tokens_to_keep=1):
    out = []
    for row in _rows(logits):
        top = max(row)
        weights = [math.exp(x - top) for x in row]
        total = sum(weights)
        keep = set()
        mass = 0.0
        for i in sorted(range(len(row)), key=lambda j: row[j], reverse=True):
            if mass >= p and len(keep) >= min_tokens_to_keep:
                break
            keep.add(i)
            mass += weights[i] / total
        out.append([x if i in keep else -math.inf for i, x in enumerate(row)])
    return torch.tensor(out, dtype=logits.dtype).reshape(logits.shape)
