# BUG: top-p applies the keep mask computed in sorted order directly to the unsorted logits (wrong positions).
import torch


def top_k_filter(logits, k):
    k = min(k, logits.size(-1))
    kth = torch.topk(logits, k, dim=-1).values[..., -1:]
    return logits.masked_fill(logits < kth, float("-inf"))


def top_p_filter(logits, p, min_tokens_to_keep=1):
    sorted_logits, sorted_idx = torch.sort(logits, dim=-1, descending=True)
    probs = sorted_logits.softmax(dim=-1)
    above = probs.cumsum(dim=-1) - probs
    keep = above < p
    keep[..., :min_tokens_to_keep] = True
    return logits.masked_fill(~keep, float("-inf"))
