# CORRECT, written differently: policy iteration (evaluate exactly, improve greedily until stable), then one
# value-iteration sweep loop from V^pi to meet the tol contract; policy evaluation in numpy.
import numpy as np
import torch


def _expected(P, R):
    P, R = P.double().numpy(), R.double().numpy()
    return (P * R).sum(axis=2) if R.ndim == 3 else R


def _evaluate(P, R_sa, gamma, pi):
    S = P.shape[0]
    P_pi = np.einsum("sa,sat->st", pi, P)
    return np.linalg.solve(np.eye(S) - gamma * P_pi, (pi * R_sa).sum(axis=1))


def value_iteration(P, R, gamma, tol=1e-8, max_iters=100_000):
    if gamma < 0 or gamma >= 1:
        raise ValueError(f"gamma = {gamma} is outside [0, 1)")
    Pn, R_sa = P.double().numpy(), _expected(P, R)
    S, A, _ = Pn.shape
    actions = np.zeros(S, dtype=np.int64)
    while True:
        v = _evaluate(Pn, R_sa, gamma, np.eye(A)[actions])
        q = R_sa + gamma * Pn @ v
        better = q.argmax(axis=1)
        if np.all(q[np.arange(S), better] <= q[np.arange(S), actions] + 1e-12):
            break
        actions = better
    for _ in range(max_iters):      # v is V* up to rounding; the sweeps only make the tol contract literal
        v_new = (R_sa + gamma * Pn @ v).max(axis=1)
        done = np.abs(v_new - v).max() < tol
        v = v_new
        if done:
            break
    q = R_sa + gamma * Pn @ v
    return torch.from_numpy(v).to(P.dtype), torch.from_numpy(q.argmax(axis=1))


def policy_evaluation(P, R, gamma, policy):
    Pn, R_sa = P.double().numpy(), _expected(P, R)
    A = Pn.shape[1]
    pi = policy.double().numpy() if policy.is_floating_point() else np.eye(A)[policy.numpy()]
    return torch.from_numpy(_evaluate(Pn, R_sa, gamma, pi)).to(P.dtype)
