"""REINFORCE: the score-function policy gradient, with a baseline and an entropy bonus.

A stochastic policy pi_theta(a | s) -- here a categorical distribution given by logits -- is
improved by gradient ascent on the expected return J(theta).  The policy-gradient theorem
(Williams, 1992; Sutton & Barto, *Reinforcement Learning*, 2nd ed., chapter 13) turns the
gradient into an expectation we can sample:

    grad J = E[ grad log pi(a_t | s_t) * (G_t - b(s_t)) ]

Any baseline b that does not depend on the action leaves the expectation unchanged (because
``E[grad log pi] = 0``) but can shrink its variance a lot -- a learned state value V(s_t) is the
usual choice.  In code this is a *surrogate loss* whose gradient is minus that estimate:

    loss = -mean_t( log pi(a_t | s_t) * (G_t - b_t) )  -  entropy_coef * mean_t( H(pi(. | s_t)) )

The returns and the baseline are *constants* in this loss (the baseline is trained by its own
regression loss, never through the policy loss), so they must be detached.  Advantages are often
normalised to mean 0 and std 1 per batch, and an entropy bonus keeps the policy from collapsing
to a deterministic one too early.  This is the policy part of A2C's loss in Stable-Baselines3
(``policy_loss = -(advantages * log_prob).mean()``, ``entropy_loss = -mean(entropy)``), with log-
probabilities and entropies as ``torch.distributions.Categorical`` computes them -- write them
yourself, stably: logits can be huge, and masked (illegal) actions have logit ``-inf``.
"""
from typing import Optional, Union

import torch


def log_probs_from_logits(logits: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
    """log pi(a | s) of the taken actions.

    Args:
        logits: float tensor ``(..., A)`` of unnormalised log-probabilities; entries may be huge
            (|logit| ~ 1e4) or ``-inf`` (a masked action), with at least one finite entry per row.
        actions: integer tensor ``(...)`` of action indices in ``[0, A)``; a taken action always
            has a finite logit.

    Returns:
        ``(...)`` tensor of the logits' dtype: ``logits[..., a] - logsumexp(logits[..., :])``,
        finite, and differentiable with respect to ``logits``.
    """
    ### BEGIN SOLUTION
    log_p = torch.log_softmax(logits, dim=-1)                        # (..., A), stable for huge logits
    return log_p.gather(-1, actions.long().unsqueeze(-1)).squeeze(-1)  # (...)
    ### END SOLUTION


def policy_entropy(logits: torch.Tensor) -> torch.Tensor:
    """Entropy ``H = -sum_a p(a) log p(a)`` of each row's categorical distribution.

    Args:
        logits: float tensor ``(..., A)``, as in ``log_probs_from_logits`` (``-inf`` allowed).

    Actions of probability 0 (logit ``-inf``, or so small that ``p`` underflows) contribute
    exactly 0 -- the limit of ``p log p`` -- never NaN, and give no NaN in the gradient either.

    Returns:
        ``(...)`` tensor of the logits' dtype, differentiable with respect to ``logits``.
    """
    ### BEGIN SOLUTION
    log_p = torch.log_softmax(logits, dim=-1)                        # (..., A)
    safe_log_p = log_p.masked_fill(torch.isneginf(log_p), 0.0)      # 0 * (-inf) would be NaN
    return -(log_p.exp() * safe_log_p).sum(dim=-1)                   # (...)
    ### END SOLUTION


def reinforce_loss(logits: torch.Tensor, actions: torch.Tensor, returns: torch.Tensor,
                   baseline: Optional[Union[float, torch.Tensor]] = None, *,
                   normalize_advantages: bool = False, entropy_coef: float = 0.0,
                   eps: float = 1e-8) -> torch.Tensor:
    """The REINFORCE surrogate loss (to be minimised) over a batch of N = actions.numel() steps.

    Args:
        logits: ``(..., A)`` policy logits at the visited states (see ``log_probs_from_logits``).
        actions: integer ``(...)`` the actions taken.
        returns: float ``(...)`` the return G_t that followed each action.
        baseline: None (no baseline), a float, or a tensor broadcastable to ``returns`` (e.g.
            a value head's output, which may require grad).
        normalize_advantages: if True, the advantages ``A = G - b`` are replaced by
            ``(A - A.mean()) / (A.std() + eps)`` over all N entries (unbiased std; with a single
            entry the normalised advantage is 0).
        entropy_coef: weight of the entropy bonus.
        eps: see ``normalize_advantages``.

    ``loss = -mean(log pi(a|s) * A) - entropy_coef * mean(H(pi(.|s)))``, where A is computed from
    ``returns`` and ``baseline`` *detached*: backpropagating the loss reaches ``logits`` only, and
    leaves ``.grad`` of ``returns`` and ``baseline`` untouched (None).

    Returns:
        a 0-dim tensor of the logits' dtype; finite for huge or ``-inf`` (masked) logits, with a
        finite gradient.
    """
    ### BEGIN SOLUTION
    adv = returns.detach().to(logits.dtype)                          # (...)
    if baseline is not None:
        b = baseline.detach() if isinstance(baseline, torch.Tensor) else torch.as_tensor(baseline)
        adv = adv - b.to(logits.dtype)
    if normalize_advantages:
        adv = adv - adv.mean()
        if adv.numel() > 1:
            adv = adv / (adv.std() + eps)
    log_p = log_probs_from_logits(logits, actions)                   # (...)
    loss = -(log_p * adv).mean()
    if entropy_coef != 0.0:
        loss = loss - entropy_coef * policy_entropy(logits).mean()
    return loss
    ### END SOLUTION
