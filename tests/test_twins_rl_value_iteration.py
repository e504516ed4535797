"""Library twin of rl/value_iteration: Gymnasium's slippery FrozenLake-v1 (4x4 and 8x8) as a real
MDP.  Its transition table ``env.unwrapped.P`` is turned into ``P[s, a, s']`` and ``R[s, a, s']``;
the reference's value iteration and policy evaluation must agree with the grader's own oracle (an
exact linear solve) and with Monte-Carlo rollouts of the returned policy in the Gymnasium
environment itself (mean discounted return from the start state within 5.6 standard errors of V*).
On small random MDPs, the grader's brute-force V* and the reference agree.

Gymnasium is not a dependency of mlkata (``.venv/bin/pip install gymnasium``; run with 1.4.0).
"""
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from mlkata.engine import load_module

gym = pytest.importorskip("gymnasium")

ROOT = Path(__file__).resolve().parent.parent
REF = load_module(str(ROOT / "solutions" / "rl" / "value_iteration.py"), "_twin_ref_value_iteration")
GRADER = load_module(str(ROOT / "graders" / "rl" / "value_iteration.py"), "_twin_grader_value_iteration")


def tables(env):
    """P[s, a, s'] and R[s, a, s'] from Gymnasium's table; terminal transitions lead to an absorbing
    copy of the state (P[s_terminal, :, s_terminal] = 1 with reward 0, as Gymnasium's table says)."""
    S, A = env.observation_space.n, env.action_space.n
    P = torch.zeros(S, A, S, dtype=torch.float64)
    R = torch.zeros(S, A, S, dtype=torch.float64)
    for s in range(S):
        for a in range(A):
            for prob, s2, r, _done in env.unwrapped.P[s][a]:
                P[s, a, s2] += prob
                R[s, a, s2] = r           # the reward depends only on s' here
    return P, R


@pytest.mark.parametrize("map_name,gamma,episodes", [("4x4", 0.95, 3000), ("8x8", 0.99, 1500)])
def test_value_iteration_on_slippery_frozen_lake(map_name, gamma, episodes):
    env = gym.make("FrozenLake-v1", map_name=map_name, is_slippery=True)
    P, R = tables(env)
    torch.testing.assert_close(P.sum(-1), torch.ones(P.shape[:2], dtype=torch.float64))
    V, policy = REF.value_iteration(P, R, gamma, tol=1e-10)
    # the returned policy's exact value (grader's oracle) is the returned V (up to the stopping bound)
    v_pi = GRADER.oracle_evaluate(P, R, gamma, policy.numpy())
    np.testing.assert_allclose(v_pi, V.numpy(), atol=1e-6)
    np.testing.assert_allclose(REF.policy_evaluation(P, R, gamma, policy).numpy(), v_pi, atol=1e-10)
    # ...and the policy is greedy: one Bellman backup does not improve it anywhere
    assert GRADER.bellman_residual(P, R, gamma, V.numpy()) < 1e-10
    # Monte Carlo in Gymnasium itself: the discounted return of the policy from the start state
    env.action_space.seed(0)
    returns = []
    for ep in range(episodes):
        s, _ = env.reset(seed=ep)
        g, disc = 0.0, 1.0
        for _ in range(1000):
            s, r, terminated, truncated, _ = env.step(int(policy[s]))
            g += disc * r
            disc *= gamma
            if terminated:
                break
        returns.append(g)
    returns = np.array(returns)
    se = returns.std(ddof=1) / math.sqrt(len(returns))
    assert abs(returns.mean() - float(V[0])) < 5.6 * se + 1e-9, (returns.mean(), float(V[0]), se)


@pytest.mark.parametrize("seed", range(6))
def test_reference_matches_brute_force_oracle(seed):
    P, R = GRADER.random_mdp(100 + seed, per_transition=seed % 2 == 0)
    V, policy = REF.value_iteration(P, R, 0.9, tol=1e-12)
    v_star = GRADER.brute_force_v_star(P, R, 0.9)
    np.testing.assert_allclose(V.numpy(), v_star, atol=1e-10)
    np.testing.assert_allclose(GRADER.oracle_evaluate(P, R, 0.9, policy.numpy()), v_star, atol=1e-9)
