"""Hidden graders of rl/value_iteration: on random MDPs, V and the policy against V* found by brute
force over every deterministic policy (each evaluated by an exact linear solve, float64); the
Bellman residual of the returned V; rewards per transition; policy evaluation of deterministic and
stochastic policies; gamma = 0, one state, absorbing states, invalid gamma; a slow-mixing MDP
with gamma = 0.99; dtypes and untouched inputs."""
import itertools

import numpy as np
import torch

from mlkata.checks import Fail, check, expect, expect_close, expect_equal, expect_tensor, visible_module

V = visible_module("rl/value_iteration")


# --------------------------------------------------------------------------------------------
# Oracles (numpy, float64)
# --------------------------------------------------------------------------------------------

def expected_reward(P, R) -> np.ndarray:
    P, R = np.asarray(P, dtype=np.float64), np.asarray(R, dtype=np.float64)
    return (P * R).sum(axis=2) if R.ndim == 3 else R


def oracle_evaluate(P, R, gamma, policy) -> np.ndarray:
    """Exact V^pi: solve (I - gamma P_pi) V = R_pi.  ``policy``: actions (S,) or probabilities (S, A)."""
    P = np.asarray(P, dtype=np.float64)
    S, A, _ = P.shape
    R_sa = expected_reward(P, R)
    pi = np.asarray(policy, dtype=np.float64)
    if pi.ndim == 1:
        pi = np.eye(A)[np.asarray(policy, dtype=np.int64)]
    P_pi = np.einsum("sa,sat->st", pi, P)
    R_pi = (pi * R_sa).sum(axis=1)
    return np.linalg.solve(np.eye(S) - gamma * P_pi, R_pi)


def brute_force_v_star(P, R, gamma) -> np.ndarray:
    """V* = the elementwise max of V^pi over all A^S deterministic policies (an optimal one
    dominates every other in every state)."""
    P = np.asarray(P, dtype=np.float64)
    S, A, _ = P.shape
    best = np.full(S, -np.inf)
    for actions in itertools.product(range(A), repeat=S):
        best = np.maximum(best, oracle_evaluate(P, R, gamma, np.array(actions)))
    return best


def bellman_residual(P, R, gamma, V) -> float:
    P = np.asarray(P, dtype=np.float64)
    with np.errstate(all="ignore"):     # a diverged V (inf) gives a residual of nan or inf, reported as such
        TV = (expected_reward(P, R) + gamma * np.einsum("sat,t->sa", P, np.asarray(V, dtype=np.float64))).max(axis=1)
        return float(np.abs(TV - np.asarray(V, dtype=np.float64)).max())


def random_mdp(seed, S=None, A=None, sharp=3.0, dtype=torch.float64, per_transition=False):
    g = torch.Generator().manual_seed(seed)
    S = S or int(torch.randint(2, 6, (1,), generator=g))
    A = A or int(torch.randint(2, 4, (1,), generator=g))
    P = torch.softmax(torch.randn(S, A, S, generator=g, dtype=torch.float64) * sharp, dim=-1)
    shape = (S, A, S) if per_transition else (S, A)
    R = torch.randn(shape, generator=g, dtype=torch.float64) * 2
    return P.to(dtype), R.to(dtype)


def vi_bound(gamma, tol):
    """|V - V*| after a sweep that moved V by less than tol."""
    return gamma * tol / (1 - gamma)


def check_optimal(got, P, R, gamma, tol, label):
    """V within the stopping bound of V*, and the returned policy optimal (its exact value is V*)."""
    S = P.shape[0]
    v_star = brute_force_v_star(P, R, gamma)
    Vg = expect_tensor(got["V"], "value_iteration returns (V, policy) with V of shape (S,)", shape=(S,))
    bound = vi_bound(gamma, tol)
    expect_close(Vg.double(), torch.from_numpy(v_star), "value iteration converges to V*: after the last sweep "
                 f"|V - V*| <= gamma * tol / (1 - gamma) = {bound:.2g} (V* by brute force over all policies)",
                 rtol=0, atol=bound + 1e-9, what=f"V ({label})")
    pol = expect_tensor(got["policy"], "the policy is a tensor of shape (S,)", shape=(S,))
    expect(not pol.is_floating_point() and bool(((pol >= 0) & (pol < P.shape[1])).all()),
           "the policy holds one action index in [0, A) per state", f"your code produced {pol.tolist()}")
    v_pi = oracle_evaluate(P, R, gamma, pol.numpy())
    slack = 2 * gamma * bound / (1 - gamma) + 1e-8
    expect_close(torch.from_numpy(v_pi), torch.from_numpy(v_star), "the returned policy is greedy with respect to "
                 "V, and so optimal: its exact value (I - gamma P_pi)^-1 R_pi equals V*", rtol=0, atol=slack,
                 what=f"value of your policy {pol.tolist()} ({label})")


# --------------------------------------------------------------------------------------------
# value_iteration
# --------------------------------------------------------------------------------------------

@check("V agrees with V* found by brute force over all deterministic policies, on random MDPs", points=2)
def random_v_star(run):
    for seed in range(8):
        gamma = [0.5, 0.9, 0.95, 0.3][seed % 4]
        P, R = random_mdp(seed)
        got = run(V.vi, P, R, gamma, 1e-8)
        check_optimal(got, P, R, gamma, 1e-8, f"S={P.shape[0]}, A={P.shape[1]}, gamma={gamma}, seed {seed}")


@check("the returned V has Bellman optimality residual |T V - V| below tol, for several tol", points=2)
def bellman_residual_below_tol(run):
    for seed, tol in zip(range(10, 16), [1e-2, 1e-4, 1e-6, 1e-10, 1e-3, 1e-8]):
        P, R = random_mdp(seed, S=5, A=3)
        got = run(V.vi, P, R, 0.9, tol)
        Vg = expect_tensor(got["V"], "value_iteration returns V of shape (S,)", shape=(5,))
        res = bellman_residual(P, R, 0.9, Vg.double().numpy())
        expect(res < tol, "stop only once a whole sweep changes V by less than tol in EVERY state (max norm); then "
               "|T V - V| < gamma * tol", f"Bellman residual max_s |T V - V| = {res:.3g}, tol = {tol:g} (seed {seed})")
    # one slowly converging state among nine that are settled at once: a mean change hides it
    S = 10
    P = torch.zeros(S, 2, S, dtype=torch.float64)
    P[:, :, :] = 0.0
    P[0, 0, 0] = P[0, 1, 1] = 1.0
    for s in range(1, S):
        P[s, :, s] = 1.0
    R = torch.zeros(S, 2, dtype=torch.float64)
    R[0, 0] = 1.0
    got = run(V.vi, P, R, 0.9, 1e-6)
    res = bellman_residual(P, R, 0.9, expect_tensor(got["V"], "V has shape (S,)", shape=(S,)).double().numpy())
    expect(res < 1e-6, "stop on the LARGEST change of any state (max norm), not the mean: one slow state among "
           "nine settled ones must still converge", f"Bellman residual max_s |T V - V| = {res:.3g}, tol = 1e-06")


@check("rewards per transition R[s, a, s'] are weighted by P (random MDPs)")
def per_transition_random(run):
    for seed in range(20, 24):
        P, R = random_mdp(seed, per_transition=True)
        got = run(V.vi, P, R, 0.8, 1e-9)
        check_optimal(got, P, R, 0.8, 1e-9, f"R of shape (S, A, S), seed {seed}")


@check("gamma = 0 is greedy in R; one state and absorbing states work; gamma >= 1 raises ValueError")
def edge_cases(run):
    P, R = random_mdp(30, S=4, A=3)
    got = run(V.vi, P, R, 0.0)
    expect_close(got["V"], R.max(dim=1).values, "with gamma = 0, V*(s) = max_a R(s, a)", what="V (gamma=0)")
    expect_equal(got["policy"], R.argmax(dim=1), "with gamma = 0 the policy is argmax_a R(s, a)",
                 what="policy (gamma=0)")
    P1 = torch.ones(1, 2, 1, dtype=torch.float64)
    R1 = torch.tensor([[1.0, 3.0]], dtype=torch.float64)
    got = run(V.vi, P1, R1, 0.75, 1e-10)
    expect_close(got["V"], torch.tensor([12.0], dtype=torch.float64), "one state, best reward 3 forever: "
                 "V* = 3 / (1 - 0.75)", atol=1e-8, what="V (one state)")
    # a chain 0 -> 1 -> 2 where state 2 is absorbing with reward 0; action 1 jumps straight to 2 with reward 1
    P = torch.zeros(3, 2, 3, dtype=torch.float64)
    P[0, 0, 1] = P[1, 0, 2] = P[2, 0, 2] = P[0, 1, 2] = P[1, 1, 2] = P[2, 1, 2] = 1.0
    R = torch.tensor([[0.0, 1.0], [5.0, 1.0], [0.0, 0.0]], dtype=torch.float64)
    got = run(V.vi, P, R, 0.9, 1e-10)
    expect_close(got["V"], torch.tensor([4.5, 5.0, 0.0], dtype=torch.float64), "an absorbing state with reward 0 "
                 "has value 0; V*(0) = 0 + 0.9 * 5 beats the immediate 1", atol=1e-8, what="V (absorbing chain)")
    expect_equal(got["policy"][:2], torch.tensor([0, 0]), "the policy takes the larger delayed reward",
                 what="policy[:2] (absorbing chain)")
    for gamma in (1.0, 1.5, -0.1):
        err = run(V.vi_error, P, R, gamma)
        expect(err == "ValueError", "value iteration needs 0 <= gamma < 1: raise ValueError otherwise (with "
               "gamma = 1 it need not converge)", f"gamma = {gamma}: your code raised {err or 'nothing'}")


@check("a slow-mixing MDP with gamma = 0.99 and rewards around 100 still converges to tol = 1e-6")
def slow_mixing(run):
    # a ring of 6 states: 'stay' (reward -1) or 'advance' (reward 100 only out of the last state)
    S = 6
    P = torch.zeros(S, 2, S, dtype=torch.float64)
    R = torch.zeros(S, 2, dtype=torch.float64)
    for s in range(S):
        P[s, 0, s] = 1.0
        P[s, 1, (s + 1) % S] = 0.9
        P[s, 1, s] = 0.1
        R[s, 0] = -1.0
    R[S - 1, 1] = 100.0
    got = run(V.vi, P, R, 0.99, 1e-6)
    check_optimal(got, P, R, 0.99, 1e-6, "ring of 6 states, gamma=0.99")
    res = bellman_residual(P, R, 0.99, got["V"].double().numpy())
    expect(res < 1e-6, "keep sweeping until the change is below tol, however many sweeps that takes (thousands "
           "here): no fixed number of iterations", f"Bellman residual {res:.3g} > tol 1e-6")


@check("V keeps P's dtype (float32 too), the policy is int64, and P and R are not modified")
def dtypes_and_inputs(run):
    P, R = random_mdp(40, S=4, A=2, dtype=torch.float32)
    got = run(V.vi, P, R, 0.9, 1e-4)
    expect_tensor(got["V"], "V has the dtype of P (float32 here)", dtype=torch.float32)
    expect_tensor(got["policy"], "the policy is an int64 tensor of actions", dtype=torch.int64)
    expect_close(got["V"].double(), torch.from_numpy(brute_force_v_star(P, R, 0.9)),
                 "value iteration converges to V* in float32 too", rtol=1e-4, atol=1e-3, what="V (float32)")
    expect_close(got["P_after"], P, "do not modify P", rtol=0, atol=0, what="P after the call")
    expect_close(got["R_after"], R, "do not modify R", rtol=0, atol=0, what="R after the call")


# --------------------------------------------------------------------------------------------
# policy_evaluation
# --------------------------------------------------------------------------------------------

@check("policy_evaluation is exact for random deterministic policies (vs a linear solve)", points=2)
def evaluate_deterministic(run):
    for seed in range(50, 58):
        P, R = random_mdp(seed, per_transition=seed % 2 == 1)
        g = torch.Generator().manual_seed(seed)
        policy = torch.randint(P.shape[1], (P.shape[0],), generator=g)
        gamma = [0.0, 0.5, 0.9, 0.99][seed % 4]
        got = run(V.evaluate, P, R, gamma, policy)
        want = torch.from_numpy(oracle_evaluate(P, R, gamma, policy.numpy()))
        expect_close(got["V"], want, "V^pi solves (I - gamma P_pi) V = R_pi with P_pi[s] = P[s, pi(s)] and "
                     "R_pi[s] = R(s, pi(s)) (R of shape (S, A, S) weighted by P)", rtol=1e-9, atol=1e-9,
                     what=f"V of policy {policy.tolist()} (gamma={gamma}, R {list(R.shape)}, seed {seed})")
    expect_close(got["policy_after"], policy, "do not modify the policy", rtol=0, atol=0, what="policy after the call")


@check("policy_evaluation is exact for random stochastic policies pi(a|s)")
def evaluate_stochastic(run):
    for seed in range(60, 65):
        P, R = random_mdp(seed)
        g = torch.Generator().manual_seed(seed)
        pi = torch.softmax(torch.randn(P.shape[0], P.shape[1], generator=g, dtype=torch.float64), dim=1)
        got = run(V.evaluate, P, R, 0.9, pi)
        want = torch.from_numpy(oracle_evaluate(P, R, 0.9, pi.numpy()))
        expect_close(got["V"], want, "for a stochastic policy, P_pi = sum_a pi(a|s) P[s, a] and R_pi = sum_a "
                     "pi(a|s) R(s, a)", rtol=1e-9, atol=1e-9, what=f"V of a stochastic policy (seed {seed})")


@check("policy_evaluation of value_iteration's policy gives V* (the two functions agree)")
def evaluation_of_optimal_policy(run):
    P, R = random_mdp(70, S=5, A=3)
    got = run(V.vi, P, R, 0.9, 1e-10)
    pol = got["policy"]
    if not isinstance(pol, torch.Tensor) or pol.is_floating_point():
        raise Fail("value_iteration returns an integer policy tensor", f"it returned {pol!r}"[:300])
    ev = run(V.evaluate, P, R, 0.9, pol)
    expect_close(ev["V"], torch.from_numpy(brute_force_v_star(P, R, 0.9)), "policy_evaluation(optimal policy) = V*",
                 rtol=1e-7, atol=1e-7, what="V of the policy returned by value_iteration")
