# BUG: top-p keeps entries while the running sum INCLUDING themselves is <= p, so the entry that crosses p is dropped.
import torch


def top_k_filter(logits, k):
    k = min(k, logits.size(-1))
    kth = torch.topk(logits, k, dim=-1).values[..., -1:]
    return logits.masked_fill(logits < kth, float("-inf"))


def top_p_filter(logits, p, min_tokens_to_keep=1):
    sorted_logits, sorted_idx = torch.sort(logits, dim=-1, descending=True)
    cum = sorted_logits.softmax(dim=-1).cumsum(dim=-1)
    keep = cum <= p
    keep[..., :min_tokens_to_keep] = True
    keep = keep.scatter(-1, sorted_idx, keep)
    return logits.masked_fill(~keep, float("-inf"))
