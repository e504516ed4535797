# CORRECT, written differently: Mixtral gates as a softmax over the top-k logits (the same numbers as renormalised probabilities), the balance loss through bincount, capacity with an explicit per-sequence counter, and the block sorts the (token, slot) pairs by expert and splits them into groups -- the grouped-GEMM layout of production kernels.
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def top_k_routing(router_logits, k, normalize=True):
    if normalize:
        top_logits, experts = router_logits.topk(k, dim=-1)
        return top_logits.softmax(dim=-1), experts
    return router_logits.softmax(dim=-1).topk(k, dim=-1)


def load_balancing_loss(router_logits, k, attention_mask=None):
    N, E = router_logits.shape
    probs = router_logits.softmax(-1)
    keep = torch.ones(N, dtype=torch.bool) if attention_mask is None else attention_mask.bool()
    experts = probs[keep].topk(k, dim=-1).indices.reshape(-1)
    counts = torch.bincount(experts, minlength=E).to(probs.dtype)
    n = keep.sum().to(probs.dtype)
    return E * torch.dot(counts / n, probs[keep].sum(0) / n)


def switch_route(router_logits, capacity):
    B, T, E = router_logits.shape
    probs = router_logits.softmax(-1)
    choice = probs.argmax(-1)
    dispatch = torch.zeros(B, T, E, dtype=torch.long)
    for b in range(B):
        used = [0] * E
        for t in range(T):
            e = int(choice[b, t])
            if used[e] < capacity:
                used[e] += 1
                dispatch[b, t, e] = 1
    return dispatch, probs.gather(-1, choice.unsqueeze(-1))


class ExpertWeights(nn.Module):
    def __init__(self, num_experts, hidden_size, intermediate_size):
        super().__init__()
        self.gate_up_proj = nn.Parameter(torch.randn(num_experts, 2 * intermediate_size, hidden_size) / math.sqrt(hidden_size))
        self.down_proj = nn.Parameter(torch.randn(num_experts, hidden_size, intermediate_size) / math.sqrt(intermediate_size))


class SparseMoE(nn.Module):
    def __init__(self, hidden_size, intermediate_size, num_experts, top_k):
        super().__init__()
        self.k, self.E = top_k, num_experts
        self.gate = nn.Linear(hidden_size, num_experts, bias=False)
        self.experts = ExpertWeights(num_experts, hidden_size, intermediate_size)

    def forward(self, x):
        shape = x.shape
        tokens = x.flatten(0, -2)
        logits = self.gate(tokens)
        weights, experts = top_k_routing(logits, self.k)
        flat_expert = experts.reshape(-1)                            # (N*k,)
        order = flat_expert.argsort(stable=True)
        token_of = order // self.k
        sizes = torch.bincount(flat_expert, minlength=self.E).tolist()
        pieces = []
        for e, (ids, n) in enumerate(zip(token_of.split(sizes), sizes)):
            if n == 0:
                continue
            h = tokens[ids] @ self.experts.gate_up_proj[e].T
            g, u = h.chunk(2, dim=-1)
            pieces.append((F.silu(g) * u) @ self.experts.down_proj[e].T)
        expert_out = torch.cat(pieces)                               # (N*k, H), in sorted order
        scaled = expert_out * weights.reshape(-1)[order].unsqueeze(-1)
        out = torch.zeros_like(tokens).index_add(0, token_of, scaled)
        return out.reshape(shape), logits
