"""Hidden Markov models: Viterbi decoding, the forward algorithm, and posteriors, in log space.

An HMM explains a sequence of observations ``o_0 .. o_{T-1}`` by hidden states ``s_0 .. s_{T-1}``
(part-of-speech tags behind words, phonemes behind audio frames): ``s_0 ~ start``, ``s_t ~
trans[s_{t-1}, :]``, ``o_t ~ emit(s_t)``.  Everything here takes the emissions already looked up,
``log_emit[t, s] = log p(o_t | s)``, and works with log-probabilities throughout: a product of
2,000 probabilities underflows to 0 in float64, their sum of logs does not.

* **Viterbi** -- the single most probable state path.  ``delta[0] = log_start + log_emit[0]``;
  ``delta[t, j] = max_i (delta[t-1, i] + log_trans[i, j]) + log_emit[t, j]``, remembering the best
  ``i`` as ``back[t, j]``; the path ends in ``argmax delta[T-1]`` and follows ``back`` backwards.
  Ties go to the LOWER state index, both for the last state and for every back-pointer.
* **Forward** -- the likelihood of the observations, summing over all paths:
  ``alpha[t, j] = logsumexp_i (alpha[t-1, i] + log_trans[i, j]) + log_emit[t, j]``,
  ``log p(o) = logsumexp_j alpha[T-1, j]``.
* **Posteriors** -- ``p(s_t = j | o)``, from the forward and the backward pass
  (``beta[T-1] = 0``, ``beta[t, i] = logsumexp_j (log_trans[i, j] + log_emit[t+1, j] + beta[t+1, j])``):
  ``gamma[t, j] = exp(alpha[t, j] + beta[t, j] - log p(o))``.

Impossible events are ``-inf`` and must stay harmless (no nan).  This mirrors
``hmmlearn.hmm.CategoricalHMM``'s ``decode(algorithm="viterbi")``, ``score`` and ``predict_proba``.
"""
from typing import Tuple

import torch


def viterbi(log_start: torch.Tensor, log_trans: torch.Tensor, log_emit: torch.Tensor) -> Tuple[torch.Tensor, float]:
    """The most probable state path and its log-probability.

    Args:
        log_start: ``(S,)`` log initial probabilities; log_trans: ``(S, S)``, row = from, column =
            to; log_emit: ``(T, S)``, ``T >= 1``.  float64; entries may be ``-inf``; at least one
            path has a finite log-probability.  None of them is modified.

    Returns:
        ``(path, log_prob)``: int64 ``(T,)`` and a Python float, the path's joint log-probability
        ``log p(path, o)``.  Ties go to the lower state index.
    """
    ### BEGIN SOLUTION
    T, S = log_emit.shape
    delta = log_start + log_emit[0]                                  # (S,)
    back = torch.zeros(T, S, dtype=torch.int64)
    for t in range(1, T):
        scores = delta[:, None] + log_trans                          # (S_from, S_to)
        delta, back[t] = scores.max(dim=0)                           # max returns the first (lowest) index
        delta = delta + log_emit[t]
    path = torch.zeros(T, dtype=torch.int64)
    best, path[-1] = delta.max(dim=0)
    for t in range(T - 1, 0, -1):
        path[t - 1] = back[t, path[t]]
    return path, float(best)
    ### END SOLUTION


def forward_log_likelihood(log_start: torch.Tensor, log_trans: torch.Tensor, log_emit: torch.Tensor) -> float:
    """``log p(o_0 .. o_{T-1})`` by the forward algorithm (same arguments as :func:`viterbi`)."""
    ### BEGIN SOLUTION
    alpha = log_start + log_emit[0]
    for t in range(1, log_emit.shape[0]):
        alpha = torch.logsumexp(alpha[:, None] + log_trans, dim=0) + log_emit[t]
    return float(torch.logsumexp(alpha, dim=0))
    ### END SOLUTION


def posteriors(log_start: torch.Tensor, log_trans: torch.Tensor, log_emit: torch.Tensor) -> torch.Tensor:
    """``gamma[t, j] = p(s_t = j | o)``: float64 ``(T, S)``, every row summing to 1 (0 where a state
    is impossible)."""
    ### BEGIN SOLUTION
    T, S = log_emit.shape
    alpha = torch.empty(T, S, dtype=log_emit.dtype)
    beta = torch.zeros(T, S, dtype=log_emit.dtype)
    alpha[0] = log_start + log_emit[0]
    for t in range(1, T):
        alpha[t] = torch.logsumexp(alpha[t - 1][:, None] + log_trans, dim=0) + log_emit[t]
    for t in range(T - 2, -1, -1):
        beta[t] = torch.logsumexp(log_trans + (log_emit[t + 1] + beta[t + 1])[None, :], dim=1)
    log_gamma = alpha + beta
    return torch.exp(log_gamma - torch.logsumexp(log_gamma, dim=1, keepdim=True))
    ### END SOLUTION
