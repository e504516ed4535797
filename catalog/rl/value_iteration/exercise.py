"""Value iteration and exact policy evaluation on a finite MDP.

A finite MDP with S states and A actions is two arrays: ``P[s, a, s']``, the probability of
moving to s' when taking action a in state s, and the reward -- either ``R[s, a]``, the expected
reward of taking a in s, or ``R[s, a, s']``, the reward of that particular transition (whose
expectation is ``sum_s' P[s, a, s'] R[s, a, s']``).  With a discount ``gamma < 1``:

* **Policy evaluation.**  A policy pi has a value function satisfying the Bellman expectation
  equation ``V = R_pi + gamma P_pi V`` -- S linear equations in S unknowns, solved exactly as
  ``(I - gamma P_pi) V = R_pi`` (the matrix is invertible because gamma < 1).
* **Value iteration** (Bellman, 1957; Sutton & Barto, *Reinforcement Learning*, 2nd ed.,
  section 4.4).  The Bellman optimality operator
  ``(T V)(s) = max_a [ R(s, a) + gamma sum_s' P(s'|s, a) V(s') ]`` is a gamma-contraction, so
  repeating ``V <- T V`` from any start converges to the optimal values V*, and the policy that
  is greedy with respect to V* is optimal.  When one sweep changes V by less than ``tol`` (max
  norm), the Bellman residual ``|T V - V|`` of the returned V is below ``gamma * tol`` and
  ``|V - V*| <= gamma * tol / (1 - gamma)``.

These are the algorithms of classic MDP toolboxes (e.g. ``mdptoolbox.mdp.ValueIteration`` and
``PolicyEvaluation``), written with torch tensors.
"""
from typing import Tuple

import torch


def value_iteration(P: torch.Tensor, R: torch.Tensor, gamma: float, tol: float = 1e-8,
                    max_iters: int = 100_000) -> Tuple[torch.Tensor, torch.Tensor]:
    """Optimal state values and a greedy optimal policy, by value iteration.

    Args:
        P: ``(S, A, S)`` float tensor of transition probabilities; ``P[s, a]`` sums to 1.
        R: ``(S, A)`` expected rewards, or ``(S, A, S)`` per-transition rewards; P's dtype.
        gamma: discount factor, ``0 <= gamma < 1``; anything else raises ``ValueError``.
        tol: stop after the first sweep that changes no entry of V by ``tol`` or more.
        max_iters: an upper bound on the number of sweeps.

    Start from ``V = 0`` and sweep ``V <- max_a (R[s, a] + gamma * sum_s' P[s, a, s'] V[s'])``
    over all states at once until ``max |V_new - V| < tol``; return the last ``V_new``.

    Returns:
        ``(V, policy)``: V of shape ``(S,)`` in P's dtype; policy of shape ``(S,)``, int64, the
        action maximising ``R[s, a] + gamma * sum_s' P[s, a, s'] V[s']`` for the returned V
        (lowest index on exact ties).  P and R are not modified.
    """
    ### BEGIN SOLUTION
    if not 0.0 <= gamma < 1.0:
        raise ValueError(f"value iteration needs 0 <= gamma < 1, got {gamma}")
    R_sa = (P * R).sum(dim=-1) if R.dim() == 3 else R                # (S, A) expected reward
    V = torch.zeros(P.shape[0], dtype=P.dtype)                       # (S,)
    for _ in range(max_iters):
        Q = R_sa + gamma * torch.einsum("sat,t->sa", P, V)           # (S, A)
        V_new = Q.max(dim=1).values                                  # (S,)
        converged = (V_new - V).abs().max() < tol
        V = V_new
        if converged:
            break
    Q = R_sa + gamma * torch.einsum("sat,t->sa", P, V)               # (S, A) greedy w.r.t. the returned V
    return V, Q.argmax(dim=1)
    ### END SOLUTION


def policy_evaluation(P: torch.Tensor, R: torch.Tensor, gamma: float, policy: torch.Tensor) -> torch.Tensor:
    """Exact value function of a policy, by one linear solve.

    Args:
        P: ``(S, A, S)`` transition probabilities.
        R: ``(S, A)`` or ``(S, A, S)`` rewards, as in ``value_iteration``.
        gamma: discount factor, ``0 <= gamma < 1``.
        policy: either a deterministic policy, an integer tensor ``(S,)`` of actions, or a
            stochastic one, a float tensor ``(S, A)`` whose row s holds pi(a | s).

    Solves ``(I - gamma * P_pi) V = R_pi`` with ``P_pi[s, s'] = sum_a pi(a|s) P[s, a, s']`` and
    ``R_pi[s] = sum_a pi(a|s) R(s, a)`` (no iteration: exact up to floating point).

    Returns:
        V of shape ``(S,)`` in P's dtype.  The inputs are not modified.
    """
    ### BEGIN SOLUTION
    S, A, _ = P.shape
    R_sa = (P * R).sum(dim=-1) if R.dim() == 3 else R                # (S, A) expected reward
    if policy.is_floating_point():
        pi = policy.to(P.dtype)                                      # (S, A)
    else:
        pi = torch.nn.functional.one_hot(policy.long(), A).to(P.dtype)  # (S, A)
    P_pi = torch.einsum("sa,sat->st", pi, P)                         # (S, S)
    R_pi = (pi * R_sa).sum(dim=1)                                    # (S,)
    I = torch.eye(S, dtype=P.dtype)
    return torch.linalg.solve(I - gamma * P_pi, R_pi)
    ### END SOLUTION
