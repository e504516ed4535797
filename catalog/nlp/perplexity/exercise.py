"""Perplexity: how surprised a causal language model is by a text, per token.

A causal LM factorises a sequence's probability token by token, ``p(x) = prod_t p(x_t | x_<t)``.
Its perplexity on the sequence is the exponentiated average negative log-likelihood (NLL) of
the tokens it predicts,

    PPL = exp( -(1/n) * sum_t log p(x_t | x_<t) ),

the geometric mean of ``1 / p``: a model that spreads its bet uniformly over V tokens has
perplexity V, a model that is always certain and right has perplexity 1.  It is the exponential
of the causal-LM cross-entropy loss, so the logits at position t score the token at t + 1
(the first token is never predicted).

Two averages are both called "perplexity" and they differ:

* **per sequence** -- each sequence's own ``exp(mean NLL)``, as Hugging Face ``evaluate``'s
  ``perplexity`` metric reports in ``perplexities``;
* **corpus** -- one ``exp(total NLL / total number of predicted tokens)`` over the whole batch:
  every token weighs the same, so long sequences weigh more.  The mean of the per-sequence
  perplexities (``evaluate``'s ``mean_perplexity``) is a third number, and not this one.

Padding is not text: a padded position (``attention_mask == 0``) is never a target -- the same
rule as labels of ``-100`` in ``model(input_ids, labels=...)``.

A model with a fixed context (GPT-2: 1024 tokens) cannot read a long text at once.  Cutting the
text into disjoint chunks leaves the first tokens of every chunk with almost no context; the
**sliding-window** evaluation of Hugging Face's guide "Perplexity of fixed-length models"
moves a window of ``max_length`` tokens by ``stride`` and scores only the tokens not scored
before, each with at least ``max_length - stride`` tokens of context where the text has them.

``torch.nn.functional.cross_entropy`` / ``log_softmax`` are allowed; the masking, the shift,
the averages and the windows are the exercise.
"""
import math
from typing import Callable, Optional

import torch
import torch.nn.functional as F


def _token_nll(logits: torch.Tensor, input_ids: torch.Tensor, attention_mask: Optional[torch.Tensor]):
    """Helper (optional -- only the three functions below are graded): the NLL of every target
    ``(B, T-1)`` (0 where it does not count) and the mask of counted targets ``(B, T-1)``."""
    ### BEGIN SOLUTION
    if logits.dtype != torch.float64:
        logits = logits.float()                                    # half precision: upcast first
    targets = input_ids[:, 1:]                                     # (B, T-1): tokens 1..T-1
    # logits[:, t] predicts token t + 1; cross_entropy wants the classes in dim 1
    nll = F.cross_entropy(logits[:, :-1].transpose(1, 2), targets, reduction="none")   # (B, T-1)
    counted = torch.ones_like(targets, dtype=torch.bool)
    if attention_mask is not None:
        counted = attention_mask[:, 1:].bool()                     # padding is never a target
    return torch.where(counted, nll, torch.zeros_like(nll)), counted
    ### END SOLUTION


def sequence_perplexities(logits: torch.Tensor, input_ids: torch.Tensor,
                          attention_mask: Optional[torch.Tensor] = None) -> torch.Tensor:
    """The perplexity of each sequence of the batch on its own.

    Args:
        logits: float tensor ``(B, T, V)``; ``logits[b, t]`` scores the token at position ``t + 1``.
            float16 / bfloat16 are upcast to float32 before the softmax.
        input_ids: int64 tensor ``(B, T)`` of the tokens (not shifted by the caller).
        attention_mask: optional ``(B, T)`` tensor of 0/1 (int or bool).  The target at position
            ``t >= 1`` counts when ``attention_mask[b, t] == 1``; without a mask every target counts.
            Padding may be on either side.

    Returns:
        a tensor ``(B,)``: ``exp`` of the mean NLL of each sequence's counted targets (NaN for a
        sequence with none).  dtype float64 for float64 logits, float32 otherwise.
        Differentiable with respect to ``logits``; finite for any finite logits (use a stable
        log-softmax).  The inputs are not modified.
    """
    ### BEGIN SOLUTION
    nll, counted = _token_nll(logits, input_ids, attention_mask)   # (B, T-1) each
    return torch.exp(nll.sum(dim=1) / counted.sum(dim=1))          # (B,): 0 / 0 is NaN
    ### END SOLUTION


def corpus_perplexity(logits: torch.Tensor, input_ids: torch.Tensor,
                      attention_mask: Optional[torch.Tensor] = None) -> torch.Tensor:
    """One perplexity for the whole batch: ``exp(total NLL / total number of counted targets)``.

    Arguments as in :func:`sequence_perplexities`.  Every counted token weighs the same, whatever
    sequence it belongs to -- this is not the mean of the per-sequence perplexities.

    Returns:
        a 0-dim tensor (dtype as in :func:`sequence_perplexities`; NaN when nothing counts).
    """
    ### BEGIN SOLUTION
    nll, counted = _token_nll(logits, input_ids, attention_mask)
    return torch.exp(nll.sum() / counted.sum())
    ### END SOLUTION


def sliding_window_perplexity(model: Callable[[torch.Tensor], torch.Tensor], input_ids: torch.Tensor,
                              max_length: int, stride: int) -> float:
    """Perplexity of one long token stream under a model that reads at most ``max_length`` tokens.

    Args:
        model: takes int64 ids of shape ``(1, L)`` with ``1 <= L <= max_length`` and returns
            logits ``(1, L, V)``: a causal LM over that window alone.
        input_ids: int64 tensor ``(N,)``, ``N >= 2``: the whole text.
        max_length: the model's context size (``>= 2``).
        stride: how far the window moves, ``1 <= stride <= max_length``.

    The windows are those of Hugging Face's recipe: they begin at ``0, stride, 2 * stride, ...``;
    the window beginning at ``b`` ends at ``e = min(b + max_length, N)`` (exclusive) and the model
    is called once on ``input_ids[b:e]``.  In it, the targets are the positions ``t`` from
    ``max(previous e, b + 1)`` to ``e - 1`` -- the tokens no earlier window scored, except the
    window's first token, which has no context inside it -- each scored by the window's logits
    at ``t - b - 1``.  (The first window's previous ``e`` is 0.)  The last window is the first one
    that reaches ``e = N``; no window follows it.  With ``stride < max_length`` every token but
    the first is scored exactly once; ``stride == max_length`` gives disjoint chunks.

    Count each window's targets exactly: the guide's snippet weights a window's mean loss by its
    number of labels minus one, one token short whenever windows overlap.

    Returns:
        ``exp(total NLL / number of targets)`` over all windows, as a Python float.
    """
    ### BEGIN SOLUTION
    N = input_ids.numel()
    total_nll, n_targets, prev_end = 0.0, 0, 0
    for begin in range(0, N, stride):
        end = min(begin + max_length, N)
        logits = model(input_ids[begin:end].unsqueeze(0))[0]       # (L, V) for the window
        logp = torch.log_softmax(logits.double(), dim=-1)
        first = max(prev_end, begin + 1)                           # first position not scored yet
        targets = input_ids[first:end]                             # (n,)
        rows = torch.arange(first, end) - begin - 1                # logits that predict them
        total_nll -= logp[rows, targets].sum().item()
        n_targets += end - first
        prev_end = end
        if end == N:
            break
    return math.exp(total_nll / n_targets)
    ### END SOLUTION
