"""Tabular Q-learning with an epsilon-greedy behaviour policy.

Q-learning (Watkins, 1989; Sutton & Barto, *Reinforcement Learning*, 2nd ed., section 6.5)
learns the optimal action values Q*(s, a) of a small MDP from experience alone, without a model
of the environment.  After each step ``(s, a, r, s')`` it moves Q[s, a] a fraction ``alpha``
towards the one-step target that assumes the *best* action is taken next:

    Q[s, a] += alpha * (r + gamma * max_a' Q[s', a'] * (1 - done) - Q[s, a])

When ``s'`` is terminal (``done``) nothing follows it, so the target is just ``r``.  The max makes
Q-learning *off-policy*: the agent may behave however it likes -- here epsilon-greedily, a
random action with probability epsilon and the best-looking one otherwise -- and Q still
converges to Q* as long as every state-action pair keeps being tried.

The environment is given as two plain functions, a deterministic transition table in disguise
(the 4x4 FrozenLake of Gymnasium with ``is_slippery=False`` in the checks):

    reset() -> s                        the start state of a new episode
    step(s, a) -> (s_next, r, done)     one transition from state s

Every random choice goes through the ``torch.Generator`` you are given, so that a seed makes a
whole training run reproducible.  How you draw is yours (a coin then an action, or one draw from
the action probabilities): only the probabilities and the reproducibility are graded, never
particular draws.
"""
from typing import Callable, Optional, Tuple

import torch


def q_update(Q: torch.Tensor, s: int, a: int, r: float, s_next: int, done: bool,
             alpha: float, gamma: float) -> float:
    """One Q-learning update, in place.

    Args:
        Q: float tensor ``(S, A)`` of action values; entry ``[s, a]`` is updated in place (the
            same tensor object, no copy), every other entry is left alone.
        s, a: the state and the action taken (ints).
        r: the reward received (float).
        s_next: the state reached (int).
        done: True if ``s_next`` is terminal: then the target is ``r`` alone, whatever Q[s_next]
            holds.
        alpha: step size in (0, 1].  gamma: discount factor in [0, 1].

    Returns:
        the TD error ``r + gamma * max(Q[s_next]) * (1 - done) - Q[s, a]`` as a Python float,
        computed from Q *before* the update (also when ``s_next == s``).
    """
    ### BEGIN SOLUTION
    bootstrap = 0.0 if done else gamma * float(Q[s_next].max())
    td_error = r + bootstrap - float(Q[s, a])
    Q[s, a] += alpha * td_error
    return td_error
    ### END SOLUTION


def epsilon_greedy(q_values: torch.Tensor, epsilon: float, generator: torch.Generator) -> int:
    """Pick an action epsilon-greedily.

    Args:
        q_values: float tensor ``(A,)``, the action values of the current state.
        epsilon: exploration rate in [0, 1].
        generator: the ``torch.Generator`` to draw every random number from (pass it to
            ``torch.rand`` / ``torch.randint``); never use the global RNG.

    With probability ``epsilon``: an action drawn uniformly from all A actions (the greedy
    ones included).  Otherwise: a greedy action, one whose value equals ``q_values.max()`` --
    when several are tied, one of them drawn uniformly at random (not always the lowest index:
    with an all-zero initial Q that would send an agent the same way every time).  So action
    ``a`` has probability ``epsilon / A + (1 - epsilon) * [a is greedy] / (number of greedy)``.

    Returns:
        the action as a Python int in ``[0, A)``.
    """
    ### BEGIN SOLUTION
    A = q_values.shape[0]
    if float(torch.rand((), generator=generator)) < epsilon:
        return int(torch.randint(A, (), generator=generator))
    greedy = torch.nonzero(q_values == q_values.max()).reshape(-1)          # (k,) the tied best actions
    return int(greedy[torch.randint(len(greedy), (), generator=generator)])
    ### END SOLUTION


def train_q_learning(step: Callable[[int, int], Tuple[int, float, bool]], reset: Callable[[], int],
                     n_states: int, n_actions: int, episodes: int, alpha: float = 0.5,
                     gamma: float = 0.9, epsilon: float = 0.1, max_steps: int = 100,
                     generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """Train a Q-table from zeros with epsilon-greedy Q-learning.

    Args:
        step, reset: the environment (see the module docstring).  Call ``reset()`` exactly once
            at the start of each episode; never call ``step`` on a state after it returned done.
        n_states, n_actions: S and A.
        episodes: number of episodes to run.
        alpha, gamma, epsilon: as in ``q_update`` and ``epsilon_greedy``.
        max_steps: an episode is cut off after this many steps.  A cut-off is *not* a terminal
            state: the last update still bootstraps from Q[s_next] -- only ``done`` from
            ``step`` means terminal.
        generator: every random draw comes from it; None means ``torch.Generator().manual_seed(0)``.

    Each step: ``a = epsilon_greedy(Q[s], ...)``, ``s', r, done = step(s, a)``, ``q_update``,
    ``s = s'``; the episode ends on done or after ``max_steps`` steps.

    Returns:
        Q, a float tensor ``(S, A)`` (float32 or float64).
    """
    ### BEGIN SOLUTION
    if generator is None:
        generator = torch.Generator().manual_seed(0)
    Q = torch.zeros(n_states, n_actions, dtype=torch.float64)
    for _ in range(episodes):
        s = reset()
        for _ in range(max_steps):
            a = epsilon_greedy(Q[s], epsilon, generator)
            s_next, r, done = step(s, a)
            q_update(Q, s, a, r, s_next, done, alpha, gamma)
            s = s_next
            if done:
                break
    return Q
    ### END SOLUTION
