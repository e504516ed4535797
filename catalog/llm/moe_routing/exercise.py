"""Mixture of experts: top-k routing, the load-balancing loss, expert capacity, and a sparse block.

A mixture-of-experts (MoE) layer replaces one feed-forward network by E of them (the *experts*)
and a *router*: a linear layer giving each token E logits.  Each token is sent to its top-k experts
only, so the layer holds E times the parameters but spends about k experts' compute per token
(Shazeer et al., 2017; Switch Transformer, Fedus et al., 2021, k = 1; Mixtral 8x7B, k = 2 of 8).
Two things make it train: the gate values multiply the experts' outputs, so the router gets
gradients; and an auxiliary *load-balancing loss*, ``E * sum_i f_i * P_i`` with ``f_i`` the share
of tokens routed to expert i and ``P_i`` its mean router probability, is smallest when the load is
spread evenly, so the router does not collapse onto a few experts.  Switch Transformer also caps
each expert at a *capacity*: tokens beyond it are dropped (they pass through the residual only).

Four parts, with the contracts of Hugging Face transformers' Mixtral (``MixtralTopKRouter``,
``MixtralSparseMoeBlock``, ``load_balancing_loss_func``) and Switch Transformers
(``SwitchTransformersTop1Router``).  Builds on ``llm/swiglu`` (each expert is a SwiGLU network).
"""
import math
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F


def top_k_routing(router_logits: torch.Tensor, k: int, normalize: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """Choose each token's top-k experts and their gate values.

    Args:
        router_logits: ``[N, E]``, one row of expert logits per token.
        k: experts per token, ``1 <= k <= E``.
        normalize: True (Mixtral): the k gate values are the top-k softmax probabilities divided by
            their sum, so they sum to 1.  False (Switch, k = 1): the raw softmax probabilities --
            renormalising a single expert would give 1 and cut the router off from the gradient.

    Returns:
        ``(weights, experts)``: weights ``[N, k]`` (dtype of the logits, differentiable), experts
        ``[N, k]`` long, both in decreasing order of probability (ties are never graded).
    """
    ### BEGIN SOLUTION
    probs = torch.softmax(router_logits, dim=-1)                       # (N, E)
    weights, experts = torch.topk(probs, k, dim=-1)                    # (N, k), sorted
    if normalize:
        weights = weights / weights.sum(dim=-1, keepdim=True)
    return weights, experts
    ### END SOLUTION


def load_balancing_loss(router_logits: torch.Tensor, k: int, attention_mask: Optional[torch.Tensor] = None) -> torch.Tensor:
    """The auxiliary load-balancing loss (Switch Transformer eqs. 4-6, as transformers' Mixtral).

    Args:
        router_logits: ``[N, E]`` for N tokens.
        k: experts per token.
        attention_mask: optional ``[N]`` (0/1 or bool); tokens with 0 (padding) are left out of
            both averages.

    With ``p = softmax(router_logits)`` and ``top_k(p)`` each token's k chosen experts, over the
    kept tokens: ``f_i`` = (number of tokens whose top-k includes expert i) / (number of tokens)
    -- so the ``f_i`` sum to k --, and ``P_i`` = mean of ``p[:, i]``.

    Returns:
        a 0-dim tensor, ``E * sum_i f_i * P_i``, in the logits' dtype.  Differentiable with respect
        to the logits (through ``P``; the counts have no gradient).  A perfectly even router gives
        ``k``; a collapsed router, sending every token to one expert with probability ~1, gives
        about ``E``.
    """
    ### BEGIN SOLUTION
    N, E = router_logits.shape
    probs = torch.softmax(router_logits, dim=-1)                       # (N, E)
    _, experts = torch.topk(probs, k, dim=-1)                          # (N, k)
    chosen = F.one_hot(experts, E).sum(dim=1).to(probs.dtype)          # (N, E): 1 where chosen
    keep = torch.ones(N, dtype=probs.dtype) if attention_mask is None else attention_mask.to(probs.dtype)
    n_kept = keep.sum()
    f = (chosen * keep[:, None]).sum(dim=0) / n_kept                   # (E,), sums to k
    P = (probs * keep[:, None]).sum(dim=0) / n_kept                    # (E,)
    return E * (f * P).sum()
    ### END SOLUTION


def switch_route(router_logits: torch.Tensor, capacity: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Top-1 routing with expert capacity (transformers' ``SwitchTransformersTop1Router``).

    Args:
        router_logits: ``[B, T, E]``.
        capacity: the most tokens each expert takes from one sequence (one row b).

    Each token picks its most probable expert.  Within each sequence b, tokens claim their expert in
    position order (t = 0, 1, ...); a token that finds its expert already holding ``capacity``
    tokens of that sequence is dropped.  Capacity is counted per sequence, not over the batch.

    Returns:
        ``(dispatch, gate)``: dispatch ``[B, T, E]`` long, one-hot of the chosen expert, all zeros
        for a dropped token; gate ``[B, T, 1]``, the chosen expert's softmax probability (also for
        dropped tokens), in the dtype of the logits.
    """
    ### BEGIN SOLUTION
    probs = torch.softmax(router_logits, dim=-1)                       # (B, T, E)
    gate, choice = probs.max(dim=-1, keepdim=True)                     # (B, T, 1)
    one_hot = F.one_hot(choice.squeeze(-1), router_logits.size(-1))    # (B, T, E)
    place_in_queue = one_hot.cumsum(dim=1)                             # (B, T, E): 1st, 2nd, ... claimant
    return one_hot * (place_in_queue <= capacity), gate
    ### END SOLUTION


class ExpertWeights(nn.Module):
    """The E experts' weights, stacked as in transformers' ``MixtralExperts`` (given, complete).

    Expert e maps ``x [.., H]`` to ``down_proj[e] @ (silu(g) * u)`` with
    ``(g, u) = (gate_up_proj[e] @ x).chunk(2)``: the first I rows of ``gate_up_proj[e]`` are the
    gate projection, the last I the up projection (a SwiGLU network per expert).
    """

    def __init__(self, num_experts: int, hidden_size: int, intermediate_size: int):
        super().__init__()
        self.gate_up_proj = nn.Parameter(torch.randn(num_experts, 2 * intermediate_size, hidden_size)
                                         / math.sqrt(hidden_size))
        self.down_proj = nn.Parameter(torch.randn(num_experts, hidden_size, intermediate_size)
                                      / math.sqrt(intermediate_size))


class SparseMoE(nn.Module):
    """A Mixtral sparse MoE block.

    Args:
        hidden_size: H; intermediate_size: I (each expert's hidden width); num_experts: E; top_k: k.

    Parameters (names and shapes as transformers' ``MixtralSparseMoeBlock``, so its state dict loads):
        ``gate.weight`` ``[E, H]``: the router, an ``nn.Linear(H, E, bias=False)`` named ``gate``;
        ``experts.gate_up_proj`` ``[E, 2I, H]`` and ``experts.down_proj`` ``[E, H, I]``: an
        ``ExpertWeights`` named ``experts``.
    """

    def __init__(self, hidden_size: int, intermediate_size: int, num_experts: int, top_k: int):
        super().__init__()
        ### BEGIN SOLUTION
        self.top_k = top_k
        self.gate = nn.Linear(hidden_size, num_experts, bias=False)
        self.experts = ExpertWeights(num_experts, hidden_size, intermediate_size)
        ### END SOLUTION

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Route every token of ``x [B, T, H]`` to its top-k experts and mix their outputs.

        ``router_logits = gate(tokens)`` for the ``B * T`` tokens (flattened row-major), then
        ``top_k_routing(router_logits, k, normalize=True)``; token n's output is
        ``sum_j weights[n, j] * expert_{experts[n, j]}(x_n)``.

        Dispatch, not dense: each expert runs only on the tokens routed to it (the graders watch
        the size of every torch result: no tensor with half as many elements as every expert's
        hidden layer for every token, ``[E, B*T, I]``, may be built).  Differentiable with respect
        to ``x``, the experts and the router (through the gate values).

        Returns:
            ``(y, router_logits)``: y ``[B, T, H]``; router_logits ``[B * T, E]`` (for the
            load-balancing loss).
        """
        ### BEGIN SOLUTION
        B, T, H = x.shape
        tokens = x.reshape(B * T, H)                                   # (N, H)
        router_logits = self.gate(tokens)                              # (N, E)
        weights, experts = top_k_routing(router_logits, self.top_k)    # (N, k), (N, k)
        out = torch.zeros_like(tokens)
        for e in range(self.experts.gate_up_proj.size(0)):
            token_idx, slot = torch.where(experts == e)                # the tokens that chose expert e
            if token_idx.numel() == 0:
                continue
            g, u = F.linear(tokens[token_idx], self.experts.gate_up_proj[e]).chunk(2, dim=-1)   # (n_e, I)
            y_e = F.linear(F.silu(g) * u, self.experts.down_proj[e])                             # (n_e, H)
            out = out.index_add(0, token_idx, y_e * weights[token_idx, slot].unsqueeze(-1))
        return out.view(B, T, H), router_logits
        ### END SOLUTION
