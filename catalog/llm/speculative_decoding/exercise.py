"""Speculative decoding: a small model drafts, the large one verifies, and the output is exactly
what the large model alone would have sampled.

Decoding one token costs one forward pass of the big *target* model, and that pass is bound by
memory traffic, not arithmetic: scoring K + 1 positions at once costs about as much as scoring one.
Speculative sampling (Leviathan et al., 2023; Chen et al., 2023) lets a cheap *draft* model propose
K tokens ``x_1..x_K`` (sampled from its distributions ``q_1..q_K``); one target pass then gives
``p_1..p_{K+1}`` at those positions.  Draft token ``x_i`` is accepted with probability
``min(1, p_i(x_i) / q_i(x_i))``, in order, until the first rejection; a rejected token is replaced by
a sample from the *residual* distribution ``norm(max(0, p_i - q_i))``; if all K are accepted, a
bonus token comes from ``p_{K+1}``.  Each round yields between 1 and K + 1 tokens, and the rule
makes every output token distributed exactly as the target's: the speed-up is free of bias.

Implement the residual, the batched accept/reject step (the contract of Hugging Face transformers'
``_speculative_sampling``, including the order of its random draws), and the decoding loop.  Builds
on ``nlp/sampling`` and ``nlp/temperature_sampling`` (sampling from a model's distribution).
"""
from typing import Callable

import torch

LM = Callable[[torch.Tensor], torch.Tensor]
"""A language model: token ids ``[1, T]`` (long) -> next-token probabilities ``[1, T, V]``, row t
being the distribution of the token after position t."""


def residual_distribution(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """``norm(max(0, p - q))``: what to sample after the draft's token was rejected.

    Args:
        p: target probabilities ``[..., V]`` (rows sum to 1).
        q: draft probabilities, same shape.

    Returns:
        ``[..., V]``: ``max(p - q, 0)`` divided by its row sum.  A row where that sum is 0 (p == q:
        a rejection cannot happen there) returns ``p``'s row instead, never NaN.  Dtype of ``p``.
    """
    ### BEGIN SOLUTION
    excess = (p - q).clamp(min=0)                                     # (..., V)
    total = excess.sum(dim=-1, keepdim=True)                          # (..., 1)
    safe = torch.where(total > 0, total, torch.ones_like(total))
    return torch.where(total > 0, excess / safe, p)
    ### END SOLUTION


def speculative_accept(
    draft_tokens: torch.Tensor, q: torch.Tensor, p: torch.Tensor, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Verify K drafted tokens per row against the target's distributions.

    Args:
        draft_tokens: ``[B, K]`` long, the drafted tokens (row b's ``x_1..x_K``).
        q: ``[B, K, V]``, the draft distributions the tokens were sampled from.
        p: ``[B, K + 1, V]``, the target's distributions at the K drafted positions and one more.
        generator: the source of every random draw, used in exactly this order:

            1. ``u = torch.rand(B, K, generator=generator, dtype=p.dtype)``: one uniform per draft
               token, all drawn up front (also those that end up unused);
            2. one call ``torch.multinomial(dist, 1, generator=generator)`` on a ``[B, V]`` matrix
               whose row b is ``residual_distribution(p[b, n_b], q[b, n_b])`` if row b rejected
               its draft token at position ``n_b``, or ``p[b, K]`` if it accepted all K.

    Draft token k of row b is accepted when ``u[b, k] < p[b, k, x] / q[b, k, x]`` (x the token; a
    strict ``<``, so a token the target gives probability 0 is never accepted) AND every earlier
    draft token of the row was accepted.

    Returns:
        ``(n_accepted, next_token)``, both ``[B]`` long: how many leading draft tokens row b keeps
        (0..K), and the token that follows them (the residual sample, or the bonus token).
    """
    ### BEGIN SOLUTION
    B, K = draft_tokens.shape
    u = torch.rand(B, K, generator=generator, dtype=p.dtype)
    p_x = p[:, :K].gather(-1, draft_tokens.unsqueeze(-1)).squeeze(-1)      # (B, K): target prob of each draft
    q_x = q.gather(-1, draft_tokens.unsqueeze(-1)).squeeze(-1)             # (B, K): draft prob of each draft
    accepted = u < p_x / q_x                                               # q_x > 0: x was drawn from q
    n_accepted = accepted.long().cumprod(dim=-1).sum(dim=-1)               # (B,): leading run of accepts
    rows = torch.arange(B)
    at = n_accepted.clamp(max=K - 1)                                       # where the rejection happened
    residual = residual_distribution(p[rows, at], q[rows, at])             # (B, V)
    dist = torch.where((n_accepted == K).unsqueeze(-1), p[:, K], residual)
    next_token = torch.multinomial(dist, 1, generator=generator).squeeze(-1)
    return n_accepted, next_token
    ### END SOLUTION


def speculative_decode(
    target: LM, draft: LM, prompt: torch.Tensor, num_draft: int, max_new_tokens: int,
    generator: torch.Generator,
) -> tuple[torch.Tensor, int]:
    """Generate ``max_new_tokens`` tokens after ``prompt`` by speculative sampling.

    Args:
        target, draft: language models (see ``LM``); both may be called on any prefix.
        prompt: ``[T0]`` long, ``T0 >= 1``.
        num_draft: K >= 1, tokens drafted per round.
        max_new_tokens: how many tokens to generate (>= 1).
        generator: the source of every random draw.

    Each round, on the current sequence ``s`` (a 1-D tensor):

        1. draft K tokens one at a time: for i = 1..K, ``q_i = draft(s_and_drafts_so_far[None])[0, -1]``
           and ``x_i = torch.multinomial(q_i, 1, generator=generator)`` (K draft calls, in order);
        2. call the target ONCE on ``s`` followed by ``x_1..x_K`` and take its last K + 1 rows as
           ``p_1..p_{K+1}``;
        3. ``speculative_accept(x[None], q[None], p[None], generator)`` and append the first
           ``n_accepted`` draft tokens and then ``next_token`` to ``s``.

    Rounds repeat until at least ``max_new_tokens`` new tokens exist; extra tokens of the last
    round are dropped.

    Returns:
        ``(tokens, target_calls)``: tokens ``[T0 + max_new_tokens]`` long (the prompt, then the new
        tokens), and how many times ``target`` was called.
    """
    ### BEGIN SOLUTION
    seq, target_calls = prompt.clone(), 0
    while seq.numel() < prompt.numel() + max_new_tokens:
        drafted, q_rows = seq, []
        for _ in range(num_draft):
            q_i = draft(drafted.unsqueeze(0))[0, -1]                          # (V,)
            x_i = torch.multinomial(q_i, 1, generator=generator)            # (1,)
            q_rows.append(q_i)
            drafted = torch.cat([drafted, x_i])
        p = target(drafted.unsqueeze(0))[0, -(num_draft + 1):]              # (K + 1, V)
        target_calls += 1
        x = drafted[seq.numel():]                                           # (K,)
        n, nxt = speculative_accept(x.unsqueeze(0), torch.stack(q_rows).unsqueeze(0), p.unsqueeze(0), generator)
        seq = torch.cat([seq, x[:int(n)], nxt])
    return seq[:prompt.numel() + max_new_tokens], target_calls
    ### END SOLUTION
