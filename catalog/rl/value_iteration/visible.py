"""Visible checks on a two-state MDP: optimal values and policy, evaluation of a deterministic
and of a stochastic policy, and rewards given per transition."""
import torch

from mlkata.checks import check, expect_close, expect_equal, probe


@probe
def vi(sub, P, R, gamma, tol=1e-8, max_iters=10_000):
    """Run value_iteration; report V, the policy and P, R as they are afterwards."""
    V, policy = sub.value_iteration(P, R, gamma, tol=tol, max_iters=max_iters)
    return {"V": V, "policy": policy, "P_after": P, "R_after": R}


@probe
def evaluate(sub, P, R, gamma, policy):
    V = sub.policy_evaluation(P, R, gamma, policy)
    return {"V": V, "P_after": P, "R_after": R, "policy_after": policy}


@probe
def vi_error(sub, P, R, gamma):
    """The name of the exception value_iteration raises, or None."""
    try:
        sub.value_iteration(P, R, gamma)
    except Exception as e:  # noqa: BLE001 - reported, judged by the check
        return type(e).__name__
    return None


def two_state_mdp():
    """State 0: stay (r 0) or go to 1 (r 1).  State 1: stay (r 2) or go to 0 (r 0)."""
    P = torch.zeros(2, 2, 2, dtype=torch.float64)
    P[0, 0, 0] = P[0, 1, 1] = P[1, 0, 1] = P[1, 1, 0] = 1.0
    R = torch.tensor([[0.0, 1.0], [2.0, 0.0]], dtype=torch.float64)
    return P, R


@check("value_iteration finds V* and the optimal policy of a two-state MDP")
def two_states(run):
    P, R = two_state_mdp()
    got = run(vi, P, R, 0.5)
    # V*(1) = 2 / (1 - 0.5) = 4 (stay); V*(0) = 1 + 0.5 * 4 = 3 (go to state 1)
    expect_close(got["V"], torch.tensor([3.0, 4.0], dtype=torch.float64),
                 "V*(s) = max_a [R(s, a) + gamma * sum_s' P(s'|s, a) V*(s')]", what="V")
    expect_equal(got["policy"], torch.tensor([1, 0]), "the policy is greedy with respect to V*", what="policy")


@check("policy_evaluation solves (I - gamma P_pi) V = R_pi for a deterministic policy")
def evaluates_deterministic(run):
    P, R = two_state_mdp()
    got = run(evaluate, P, R, 0.5, torch.tensor([1, 1]))
    # V0 = 1 + 0.5 V1, V1 = 0 + 0.5 V0  ->  V0 = 4/3, V1 = 2/3
    expect_close(got["V"], torch.tensor([4 / 3, 2 / 3], dtype=torch.float64),
                 "V = R_pi + gamma * P_pi V for the actions the policy picks", what="V of the policy [1, 1]")


@check("policy_evaluation accepts a stochastic policy pi(a|s) of shape (S, A)")
def evaluates_stochastic(run):
    P, R = two_state_mdp()
    got = run(evaluate, P, R, 0.5, torch.full((2, 2), 0.5, dtype=torch.float64))
    # R_pi = [0.5, 1], every row of P_pi is [0.5, 0.5]  ->  V = [1.25, 1.75]
    expect_close(got["V"], torch.tensor([1.25, 1.75], dtype=torch.float64),
                 "R_pi[s] = sum_a pi(a|s) R(s, a) and P_pi[s, s'] = sum_a pi(a|s) P(s'|s, a)",
                 what="V of the uniform policy")


@check("rewards may be given per transition, R[s, a, s'] (weighted by P)")
def per_transition_rewards(run):
    P, R = two_state_mdp()
    R3 = torch.full((2, 2, 2), 100.0, dtype=torch.float64)      # transitions of probability 0 must not count
    for s in range(2):
        for a in range(2):
            R3[s, a, int(P[s, a].argmax())] = R[s, a]
    got = run(vi, P, R3, 0.5)
    expect_close(got["V"], torch.tensor([3.0, 4.0], dtype=torch.float64),
                 "with R of shape (S, A, S) the expected reward is R(s, a) = sum_s' P[s, a, s'] R[s, a, s']",
                 what="V")
