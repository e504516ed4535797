# BUG: policy_evaluation solves (I - gamma P_pi^T) V = R_pi (transposed transition matrix).
import torch


def _r_sa(P, R):
    return (P * R).sum(-1) if R.dim() == 3 else R


def value_iteration(P, R, gamma, tol=1e-8, max_iters=100_000):
    if not 0 <= gamma < 1:
        raise ValueError("gamma must be in [0, 1)")
    R_sa = _r_sa(P, R)
    V = torch.zeros(P.shape[0], dtype=P.dtype)
    for _ in range(max_iters):
        Q = R_sa + gamma * (P @ V)
        V_new = Q.max(dim=1).values
        delta = (V_new - V).abs().max()
        V = V_new
        if delta < tol:
            break
    Q = R_sa + gamma * (P @ V)
    return V, Q.argmax(dim=1)


def policy_evaluation(P, R, gamma, policy):
    S, A, _ = P.shape
    R_sa = _r_sa(P, R)
    if policy.dtype.is_floating_point:
        pi = policy.to(P.dtype)
    else:
        pi = torch.zeros(S, A, dtype=P.dtype)
        pi[torch.arange(S), policy.long()] = 1.0
    P_pi = (pi[:, :, None] * P).sum(1)
    R_pi = (pi * R_sa).sum(1)
    return torch.linalg.solve(torch.eye(S, dtype=P.dtype) - gamma * P_pi.T, R_pi)
