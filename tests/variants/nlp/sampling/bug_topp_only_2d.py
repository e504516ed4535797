# BUG: top-p copies the 2-D-only pattern (sort default dim, scatter along dim 1): rank 1 raises, rank 3+ scatters along the wrong dimension.
import torch


def top_k_filter(logits, k):
    k = min(k, logits.size(-1))
    kth = torch.topk(logits, k, dim=-1).values[..., -1:]
    return logits.masked_fill(logits < kth, float("-inf"))


def top_p_filter(logits, p, min_tokens_to_keep=1):
    sorted_logits, sorted_idx = torch.sort(logits, descending=False)
    cum = sorted_logits.softmax(dim=-1).cumsum(dim=-1)
    remove = cum <= 1 - p
    remove[..., -min_tokens_to_keep:] = 0
    remove = remove.scatter(1, sorted_idx, remove)
    return logits.masked_fill(remove, float("-inf"))
