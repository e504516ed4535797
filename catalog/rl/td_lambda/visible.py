"""Visible checks: lambda-returns at lambda = 0, 1 and 1/2 on a two-step rollout, and one
episode of online TD(1) with eligibility traces."""
import torch

from mlkata.checks import check, expect_close, probe


@probe
def lret(sub, rewards, values, dones, gamma, lam, bootstrap_value=None, track=False):
    """Call lambda_returns; ``track`` makes values require grad to see whether the targets do."""
    if track:
        values = values.clone().requires_grad_(True)
    out = sub.lambda_returns(rewards, values, dones, gamma, lam, bootstrap_value)
    return {"out": out, "requires_grad": bool(getattr(out, "requires_grad", False)),
            "rewards_after": rewards, "values_after": values.detach(), "dones_after": dones}


@probe
def episode(sub, V, states, rewards, gamma, lam, alpha, terminal=None, online=None):
    """``td_lambda_episode``; ``terminal`` / ``online`` left at None are left out (their defaults: True)."""
    options = {k: v for k, v in dict(terminal=terminal, online=online).items() if v is not None}
    out = sub.td_lambda_episode(V, states, rewards, gamma, lam, alpha, **options)
    return {"V": out, "V_in_after": V}


R2, V2, D2 = torch.tensor([1.0, 2.0]), torch.tensor([10.0, 20.0]), torch.tensor([False, False])


@check("lambda = 0 gives the TD(0) targets r_t + gamma * V(s_{t+1})")
def lambda_zero(run):
    got = run(lret, R2, V2, D2, 0.5, 0.0, 4.0)
    expect_close(got["out"], torch.tensor([1.0 + 0.5 * 20.0, 2.0 + 0.5 * 4.0]),
                 "G^0_t = r_t + gamma * V(s_{t+1}), with V(s_T) = bootstrap_value", what="lambda-returns")


@check("lambda = 1 gives the Monte-Carlo returns (bootstrapped at the end)")
def lambda_one(run):
    got = run(lret, R2, V2, D2, 0.5, 1.0, 4.0)
    expect_close(got["out"], torch.tensor([1.0 + 0.5 * 4.0, 4.0]),
                 "G^1_t = r_t + gamma * G^1_{t+1}: the values in between are not used", what="lambda-returns")


@check("lambda = 1/2 mixes: G_t = r_t + gamma ((1 - lambda) V(s_{t+1}) + lambda G_{t+1})")
def lambda_half(run):
    got = run(lret, R2, V2, D2, 0.5, 0.5, 4.0)
    # G_1 = 2 + 0.5 * 4 = 4;  G_0 = 1 + 0.5 * (0.5 * 20 + 0.5 * 4) = 7
    expect_close(got["out"], torch.tensor([7.0, 4.0]),
                 "G^lambda_t = r_t + gamma * ((1 - lambda) * V(s_{t+1}) + lambda * G^lambda_{t+1})",
                 what="lambda-returns")


@check("online TD(1) with traces over one episode: every state is credited its return")
def traces_one_episode(run):
    got = run(episode, torch.zeros(3), torch.tensor([0, 1, 2]), torch.tensor([1.0, 1.0]), 1.0, 1.0, 0.5)
    # t=0: delta 1, z = [1, 0, 0] -> V = [0.5, 0, 0];  t=1: delta 1, z = [1, 1, 0] -> V = [1, 0.5, 0]
    expect_close(got["V"], torch.tensor([1.0, 0.5, 0.0]),
                 "delta_t = r_t + gamma V(s_{t+1}) - V(s_t) (V(terminal) = 0); z <- gamma lam z; z[s_t] += 1; "
                 "V += alpha delta_t z", what="V after the episode")
