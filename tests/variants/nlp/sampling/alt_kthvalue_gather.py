# CORRECT, written differently: top-k through torch.kthvalue (the (V-k+1)-th smallest); top-p walks
# the descending order, counts how many entries each row needs, and maps back with the inverse
# permutation (gather) and torch.where.
import torch


def top_k_filter(logits, k):
    V = logits.size(-1)
    k = max(1, min(int(k), V))
    kth = torch.kthvalue(logits, V - k + 1, dim=-1, keepdim=True).values      # k-th largest
    return torch.where(logits >= kth, logits, torch.full_like(logits, float("-inf")))


def top_p_filter(logits, p, min_tokens_to_keep=1):
    order = torch.argsort(logits, dim=-1, descending=True)                     # rank -> position
    probs = torch.gather(logits, -1, order).double().softmax(dim=-1)
    mass_above = probs.cumsum(dim=-1) - probs
    n_keep = (mass_above < p).sum(dim=-1, keepdim=True).clamp(min=min_tokens_to_keep)   # (..., 1)
    rank = torch.argsort(order, dim=-1)                                        # position -> rank
    return torch.where(rank < n_keep, logits, torch.full_like(logits, float("-inf")))
