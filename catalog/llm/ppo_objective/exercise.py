"""PPO for RLHF: KL-penalised rewards, generalised advantage estimation, the clipped loss.

In the RL stage of RLHF the policy (the LLM) generates a response, a reward model scores the
whole response with one number, and PPO improves the policy while a KL penalty keeps it close
to the frozen reference (SFT) model.  The objective maximised is

    E[ r(x, y) - beta * log(pi(y | x) / pi_ref(y | x)) ]

and it is trained token by token.  Three pieces turn a batch of rollouts into a loss:

1. ``kl_penalized_rewards``: every response token gets the per-token KL penalty
   ``-beta * (logprob - ref_logprob)``; the reward model's score is added on the response's
   last token (the score judges the whole sequence, so it arrives when the sequence ends).
2. ``gae_advantages``: generalised advantage estimation (Schulman et al., 2016) turns those
   per-token rewards and the value head's estimates into advantages, by a backward recursion
   ``delta_t = r_t + gamma V_{t+1} - V_t``, ``A_t = delta_t + gamma lam A_{t+1}``; the value
   after a sequence's last token is 0 (the episode is over).  The value head's targets are the
   returns ``A_t + V_t``.
3. ``ppo_clip_loss``: the clipped surrogate of PPO (Schulman et al., 2017).  The probability
   ratio ``pi / pi_old`` is clipped to ``[1 - eps, 1 + eps]`` and the *smaller* of the clipped
   and unclipped objectives is kept: a pessimistic bound, so the policy gains nothing by moving
   the ratio outside the trust region, but is never spared a loss.

Batches are padded: ``mask`` marks each sequence's real tokens, a contiguous prefix.  What sits
at padded positions is arbitrary (it may be huge, inf or NaN) and must never reach a result.

These are the formulas of TRL's ``PPOTrainer`` (``compute_rewards`` and ``loss`` in
``trl/trainer/ppo_trainer.py``), without its advantage whitening and value loss.
"""
from typing import Optional

import torch


def ppo_clip_loss(logprobs: torch.Tensor, old_logprobs: torch.Tensor, advantages: torch.Tensor,
                  clip_eps: float = 0.2, mask: Optional[torch.Tensor] = None) -> torch.Tensor:
    """The PPO clipped surrogate loss (to be minimised).

    Args:
        logprobs: log pi(a_t | s_t) under the current policy, any shape, float.
        old_logprobs: the same log-probabilities under the policy that collected the data.
        advantages: the advantage of each action, same shape.
        clip_eps: the trust region: the ratio is clipped to ``[1 - clip_eps, 1 + clip_eps]``.
        mask: boolean, same shape; only positions where it is True count.  None: all count.
            Values at masked-out positions are arbitrary (even inf/NaN) and must not matter.

    With ``ratio = exp(logprobs - old_logprobs)`` the loss is

        - mean over the True positions of  min(ratio * A, clip(ratio, 1 - eps, 1 + eps) * A)

    Returns:
        a 0-dim tensor of the inputs' dtype, differentiable with respect to ``logprobs``.
        The inputs are not modified.
    """
    ### BEGIN SOLUTION
    ratio = torch.exp(logprobs - old_logprobs)          # a difference of logs: no 0/0 underflow
    unclipped = ratio * advantages
    clipped = torch.clamp(ratio, 1.0 - clip_eps, 1.0 + clip_eps) * advantages
    surrogate = torch.minimum(unclipped, clipped)       # the pessimistic bound
    if mask is None:
        return -surrogate.mean()
    return -surrogate[mask].mean()                      # only the True positions are read
    ### END SOLUTION


def kl_penalized_rewards(rewards: torch.Tensor, logprobs: torch.Tensor, ref_logprobs: torch.Tensor,
                         beta: float, mask: torch.Tensor) -> torch.Tensor:
    """Per-token rewards of RLHF: a KL penalty on every token plus the score on the last one.

    Args:
        rewards: (B,) the reward model's score of each whole sequence.
        logprobs: (B, T) log-probabilities of the sampled tokens under the policy.
        ref_logprobs: (B, T) the same under the frozen reference model.
        beta: the KL coefficient.
        mask: (B, T) boolean; each row's valid tokens form a contiguous prefix of length >= 1.
            Values at masked-out positions are arbitrary (even inf/NaN) and must not matter.

    Returns:
        (B, T), dtype of ``logprobs``: ``-beta * (logprobs - ref_logprobs)`` at valid positions,
        plus ``rewards[i]`` on the last valid token of row ``i``; exactly 0 where mask is False.
        The inputs are not modified.
    """
    ### BEGIN SOLUTION
    B, T = logprobs.shape
    penalty = torch.where(mask, -beta * (logprobs - ref_logprobs), torch.zeros_like(logprobs))  # (B, T)
    next_valid = torch.cat([mask[:, 1:], mask.new_zeros(B, 1)], dim=1)                       # (B, T)
    is_last = mask & ~next_valid                         # (B, T) True once per row: the last valid token
    score = torch.where(is_last, rewards.to(logprobs.dtype)[:, None], torch.zeros_like(logprobs))
    return penalty + score
    ### END SOLUTION


def gae_advantages(rewards: torch.Tensor, values: torch.Tensor, gamma: float, lam: float,
                   mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Generalised advantage estimation over the last dimension.

    Args:
        rewards: (B, T) per-token rewards.
        values: (B, T) the value head's estimate V_t at each position.
        gamma: the discount factor.
        lam: the GAE parameter (0: one-step TD error, 1: Monte-Carlo return minus V_t).
        mask: (B, T) boolean; each row's valid positions form a contiguous prefix.
            Values at masked-out positions are arbitrary (even inf/NaN) and must not matter.

    Backward over each row's valid positions, with ``V = 0`` after the last valid one:

        delta_t = r_t + gamma * V_{t+1} - V_t
        A_t     = delta_t + gamma * lam * A_{t+1}

    Returns:
        ``(advantages, returns)``, both (B, T) of the inputs' dtype, with
        ``returns = advantages + values`` at valid positions and both exactly 0 elsewhere.
        The inputs are not modified.
    """
    ### BEGIN SOLUTION
    B, T = rewards.shape
    zero = torch.zeros_like(rewards)
    r = torch.where(mask, rewards, zero)                # (B, T) padding -> 0, so it adds nothing
    v = torch.where(mask, values, zero)                 # (B, T) padding -> 0: V after the last token is 0
    last_gae = zero[:, 0]                               # (B,)
    reversed_adv = []
    for t in reversed(range(T)):
        next_v = v[:, t + 1] if t + 1 < T else zero[:, 0]
        delta = r[:, t] + gamma * next_v - v[:, t]      # exactly 0 at padded positions
        last_gae = delta + gamma * lam * last_gae
        reversed_adv.append(last_gae)
    advantages = torch.stack(reversed_adv[::-1], dim=1)  # (B, T)
    returns = torch.where(mask, advantages + values, zero)
    return advantages, returns
    ### END SOLUTION
