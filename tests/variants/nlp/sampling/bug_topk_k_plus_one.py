# BUG: top-k takes the threshold at 0-based index k of the sorted row, i.e. the (k+1)-th largest: keeps k+1 entries.
import torch


def top_k_filter(logits, k):
    V = logits.size(-1)
    sorted_logits = torch.sort(logits, dim=-1, descending=True).values
    kth = sorted_logits[..., min(k, V - 1), None]
    return logits.masked_fill(logits < kth, float("-inf"))


def top_p_filter(logits, p, min_tokens_to_keep=1):
    sorted_logits, sorted_idx = torch.sort(logits, dim=-1, descending=True)
    probs = sorted_logits.softmax(dim=-1)
    above = probs.cumsum(dim=-1) - probs                 # mass of the entries above each one
    keep = above < p
    keep[..., :min_tokens_to_keep] = True
    keep = keep.scatter(-1, sorted_idx, keep)
    return logits.masked_fill(~keep, float("-inf"))
