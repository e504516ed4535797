"""TD(lambda): lambda-returns (the forward view) and eligibility traces (the backward view).

TD(0) learns V(s_t) from the one-step target ``r_t + gamma V(s_{t+1})``: low variance, but
biased by the current estimate.  Monte Carlo uses the full return ``G_t``: unbiased, but noisy.
The *lambda-return* (Sutton & Barto, *Reinforcement Learning*, 2nd ed., chapter 12) averages all
n-step returns with weights ``(1 - lambda) lambda^(n-1)`` and obeys a one-line recursion:

    G^lambda_t = r_t + gamma * ( (1 - lambda) V(s_{t+1}) + lambda G^lambda_{t+1} )

so lambda = 0 gives the TD(0) target and lambda = 1 the Monte-Carlo return.  (This is the
``TD(lambda)`` target of RL libraries, e.g. ``rlax.lambda_returns``, and GAE's returns,
``advantages + values``.)

The *backward view* gets the same effect online, with one pass and no look-ahead: an
eligibility trace z(s) remembers how recently and how often each state was visited, and every
TD error is credited to all states in proportion to their trace (accumulating traces):

    delta_t = r_t + gamma V(s_{t+1}) - V(s_t)
    z <- gamma * lambda * z;   z[s_t] += 1
    V <- V + alpha * delta_t * z

If V is held fixed during the episode and the increments are added at its end (*offline*), the
total update equals the forward view's ``alpha * sum_t (G^lambda_t - V(s_t))`` credited to s_t,
exactly, for every lambda -- in particular TD(0) at lambda = 0 and Monte Carlo at lambda = 1.
"""
from typing import Optional, Union

import torch


def lambda_returns(rewards: torch.Tensor, values: torch.Tensor, dones: torch.Tensor, gamma: float, lam: float,
                   bootstrap_value: Optional[Union[float, torch.Tensor]] = None) -> torch.Tensor:
    """lambda-returns of every step of a rollout that may hold several episodes.

    Args:
        rewards: float ``(T,)`` or ``(B, T)``; time along the last dimension, T >= 1.
        values: same shape, ``values[..., t] = V(s_t)``, the value of the state step t started from.
        dones: same shape, bool or 0/1: ``dones[..., t]`` means the episode ended with step t
            (s_{t+1} is terminal: ``G^lambda_t = r_t``, and step t + 1 begins a new episode).
        gamma: discount in [0, 1].  lam: lambda in [0, 1].
        bootstrap_value: V(s_T), the value of the state after the last step, used when that step
            is not done; None means 0.  A float or a tensor of shape ``rewards.shape[:-1]``.

    With ``V(s_T) = G^lambda_T = bootstrap_value``, backwards over t:

        G^lambda_t = r_t + gamma * (1 - done_t) * ((1 - lam) * V(s_{t+1}) + lam * G^lambda_{t+1})

    where ``V(s_{t+1}) = values[..., t + 1]`` for t < T - 1.

    Returns:
        a tensor of the shape and dtype of ``rewards`` that does NOT require grad, even when
        ``values`` does: these are regression targets, constants for the critic's loss.  The
        inputs are not modified.
    """
    ### BEGIN SOLUTION
    T = rewards.shape[-1]
    values = values.detach().to(rewards.dtype)
    not_done = 1.0 - dones.to(rewards.dtype)                               # (..., T)
    boot = torch.zeros(rewards.shape[:-1], dtype=rewards.dtype)            # (...) V(s_T) = G_T
    if bootstrap_value is not None:
        boot = boot + torch.as_tensor(bootstrap_value, dtype=rewards.dtype).detach()
    next_value, g = boot, boot
    out = torch.empty_like(rewards, requires_grad=False)
    for t in reversed(range(T)):
        g = rewards[..., t].detach() + gamma * not_done[..., t] * ((1 - lam) * next_value + lam * g)
        out[..., t] = g
        next_value = values[..., t]                                        # V(s_t) is V(s_{(t-1)+1})
    return out
    ### END SOLUTION


def td_lambda_episode(V: torch.Tensor, states: torch.Tensor, rewards: torch.Tensor, gamma: float, lam: float,
                      alpha: float, terminal: bool = True, online: bool = True) -> torch.Tensor:
    """Tabular TD(lambda) with accumulating eligibility traces over one episode.

    Args:
        V: float ``(S,)`` state values before the episode.  Not modified.
        states: integer ``(T + 1,)``, the states s_0 .. s_T visited (states may repeat).
        rewards: float ``(T,)``, r_t received on the step from s_t to s_{t+1}; T >= 1.
        gamma, lam: discount and lambda in [0, 1].  alpha: step size.
        terminal: True if s_T is terminal -- its value counts as 0 whatever ``V[s_T]`` holds;
            False if the episode was cut off -- then the last TD error bootstraps from V(s_T).
        online: True: V changes after every step and each TD error is computed with the current
            V.  False (offline): every TD error uses the V given at the start, and the summed
            increments are applied once at the end.

    With the trace z (S,) starting at 0, for t = 0 .. T-1:

        delta_t = r_t + gamma * V(s_{t+1}) - V(s_t)       (V(s_T) := 0 if terminal)
        z <- gamma * lam * z;  z[s_t] += 1
        V <- V + alpha * delta_t * z                       (offline: increments summed, added at the end)

    Returns:
        the updated values, a new ``(S,)`` tensor of V's dtype.
    """
    ### BEGIN SOLUTION
    T = rewards.shape[0]
    s = [int(x) for x in states]
    start = V.detach().clone()
    V_new = start.clone()                                                   # (S,) updated online
    increment = torch.zeros_like(start)                                     # (S,) summed offline
    z = torch.zeros_like(start)                                             # (S,) eligibility trace
    for t in range(T):
        table = V_new if online else start
        v_next = 0.0 if (terminal and t == T - 1) else float(table[s[t + 1]])
        delta = float(rewards[t]) + gamma * v_next - float(table[s[t]])
        z = gamma * lam * z
        z[s[t]] += 1.0
        if online:
            V_new = V_new + alpha * delta * z
        else:
            increment = increment + alpha * delta * z
    return V_new if online else start + increment
    ### END SOLUTION
