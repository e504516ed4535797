# BUG: top-k keeps exactly the k indices torch.topk returns, so entries tied with the k-th are dropped.
import torch


def top_k_filter(logits, k):
    k = min(k, logits.size(-1))
    idx = torch.topk(logits, k, dim=-1).indices
    keep = torch.zeros_like(logits, dtype=torch.bool).scatter(-1, idx, True)
    return logits.masked_fill(~keep, float("-inf"))


def top_p_filter(logits, p, min_tokens_to_keep=1):
    sorted_logits, sorted_idx = torch.sort(logits, dim=-1, descending=True)
    probs = sorted_logits.softmax(dim=-1)
    above = probs.cumsum(dim=-1) - probs                 # mass of the entries above each one
    keep = above < p
    keep[..., :min_tokens_to_keep] = True
    keep = keep.scatter(-1, sorted_idx, keep)
    return logits.masked_fill(~keep, float("-inf"))
