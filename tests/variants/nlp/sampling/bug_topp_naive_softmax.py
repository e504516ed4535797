# BUG: top-p computes probabilities as exp(x) / sum(exp(x)) without subtracting the maximum: overflows to NaN for large logits.
import torch


def top_k_filter(logits, k):
    k = min(k, logits.size(-1))
    kth = torch.topk(logits, k, dim=-1).values[..., -1:]
    return logits.masked_fill(logits < kth, float("-inf"))


def top_p_filter(logits, p, min_tokens_to_keep=1):
    sorted_logits, sorted_idx = torch.sort(logits, dim=-1, descending=True)
    e = sorted_logits.exp()
    probs = e / e.sum(dim=-1, keepdim=True)
    above = probs.cumsum(dim=-1) - probs
    keep = above < p
    keep[..., :min_tokens_to_keep] = True
    keep = keep.scatter(-1, sorted_idx, keep)
    return logits.masked_fill(~keep, float("-inf"))
