# CORRECT, written differently: ranks by argsort, masks row by row, perm_mask as the complement of what may be seen.
import torch


def factorization_ranks(order):
    return torch.argsort(order)


def two_stream_masks(order):
    rank = factorization_ranks(order).tolist()
    T = len(rank)
    content = torch.tensor([[rank[j] <= rank[i] for j in range(T)] for i in range(T)], dtype=torch.bool)
    query = content & ~torch.eye(T, dtype=torch.bool)
    return content, query


def xlnet_perm_mask(order, is_target):
    rank = factorization_ranks(order)
    T = order.numel()
    visible = torch.zeros(T, T, dtype=torch.bool)
    for i in range(T):
        for j in range(T):
            if not is_target[j]:
                visible[i, j] = True                      # context is seen by everyone
            elif is_target[i] and rank[j] < rank[i]:
                visible[i, j] = True                      # an earlier target
    eye = torch.eye(T)
    return (~visible).to(torch.float32), eye[is_target]
