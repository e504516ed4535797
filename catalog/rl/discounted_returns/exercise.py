"""Discounted returns over a rollout that holds several episodes, and return normalisation.

The return of step t is everything the agent collects from t on, discounted by gamma per step:

    G_t = r_t + gamma * r_{t+1} + gamma^2 * r_{t+2} + ...  =  r_t + gamma * G_{t+1}

A rollout buffer, though, is a flat stream of steps in which one episode follows another: a
``done`` flag on step t says the episode ended with that step, so G_t stops there and step
t + 1 starts a fresh episode whose rewards must not leak back into G_t.  The rollout also ends
mid-episode more often than not; then the unseen tail is replaced by a critic's estimate of
the value of the state reached after the last step (*bootstrapping*), or by 0 when there is
none.  This is the "reward-to-go" of REINFORCE and the return target of actor-critic methods
(``compute_returns_and_advantage`` in Stable-Baselines3's ``RolloutBuffer``, with lambda = 1;
``discount_cumsum`` in OpenAI Spinning Up).

Computing G with a closed form such as ``cumsum(gamma^k r_k) / gamma^t`` is tempting and breaks
on long horizons: ``gamma^t`` underflows (0.99^10000 is about 1e-44), so the division gives
inf or NaN.  The backward recursion has no such problem, for any T and any gamma in [0, 1].

Policy-gradient code then often *normalises* the returns of a batch to mean 0 and standard
deviation 1 -- ``(G - mean) / (std + eps)`` as in PyTorch's ``examples/reinforcement_learning/
reinforce.py`` and Stable-Baselines3's advantage normalisation -- so that the step size does
not depend on the reward scale.
"""
from typing import Optional, Union

import torch


def discounted_returns(rewards: torch.Tensor, dones: torch.Tensor, gamma: float,
                       bootstrap_value: Optional[Union[float, torch.Tensor]] = None) -> torch.Tensor:
    """Discounted return of every step of a rollout, restarting at episode boundaries.

    Args:
        rewards: float tensor ``(T,)`` (one stream) or ``(B, T)`` (B independent streams);
            time runs along the last dimension, T >= 1.  It is not modified.
        dones: same shape as ``rewards``; bool, or 0/1 of any numeric dtype.  ``dones[..., t]``
            true means the episode ended with step t: ``G_t = r_t`` exactly, and step t + 1
            (if any) begins a new episode.
        gamma: discount factor, ``0 <= gamma <= 1`` (1: undiscounted sums).
        bootstrap_value: the estimated value of the state reached after the last step of each
            stream, used only when that last step is not done.  None means 0; otherwise a
            float, or a tensor of shape ``rewards.shape[:-1]`` (0-dim for one stream, ``(B,)``).

    With ``G_T = bootstrap_value`` (after the last step), backwards over t:

        G_t = r_t + gamma * (1 - done_t) * G_{t+1}

    Returns:
        a new tensor of the shape and dtype of ``rewards``.  Finite for finite inputs, for any
        T (10^4 steps included) and any gamma in [0, 1].
    """
    ### BEGIN SOLUTION
    T = rewards.shape[-1]
    not_done = 1.0 - dones.to(rewards.dtype)                       # (..., T) 0 where an episode ends
    running = torch.zeros(rewards.shape[:-1], dtype=rewards.dtype)  # (...) G after the last step
    if bootstrap_value is not None:
        running = running + torch.as_tensor(bootstrap_value, dtype=rewards.dtype)
    out = torch.empty_like(rewards)
    for t in reversed(range(T)):
        running = rewards[..., t] + gamma * not_done[..., t] * running  # (...)
        out[..., t] = running
    return out
    ### END SOLUTION


def normalize_returns(returns: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Shift and scale all entries together to mean 0 and standard deviation 1.

    Args:
        returns: float tensor of any shape with at least one entry.  It is not modified.
        eps: added to the standard deviation so that constant returns do not divide by 0.

    Returns ``(returns - mean) / (std + eps)``, where mean and std are taken over *all* entries
    and std is the unbiased sample standard deviation (divide by N - 1: ``torch.std``'s
    default).  A tensor with a single entry has std 0 by definition, so it maps to 0.  The
    result has the input's shape and dtype, and is computed in a way that stays accurate when
    the returns sit on a large offset (e.g. 10^4 + noise in float32).
    """
    ### BEGIN SOLUTION
    n = returns.numel()
    centred = returns - returns.mean()                               # two passes: no E[x^2] - E[x]^2
    if n < 2:
        return centred                                               # std := 0, and (x - x) / eps = 0
    std = torch.sqrt((centred * centred).sum() / (n - 1))
    return centred / (std + eps)
    ### END SOLUTION
