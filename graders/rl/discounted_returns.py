"""Hidden graders of rl/discounted_returns: agreement with a plain Python loop (float64) on
random flat and batched rollouts, the bootstrap and done rules, dtypes, gamma at 0 and 1, a
10^4-step horizon, and normalisation (random, degenerate and large-offset inputs)."""
import math

import torch

from mlkata.checks import check, expect, expect_close, expect_tensor, visible_module

V = visible_module("rl/discounted_returns")


# --------------------------------------------------------------------------------------------
# Oracles: Python loops over plain floats, in double precision
# --------------------------------------------------------------------------------------------

def oracle_returns(rewards, dones, gamma, bootstrap=None) -> torch.Tensor:
    """G_t = r_t + gamma (1 - d_t) G_{t+1}, G_T = bootstrap (0 if None), one stream per row."""
    r = rewards.double().reshape(-1, rewards.shape[-1]).tolist()
    d = dones.bool().reshape(-1, rewards.shape[-1]).tolist()
    if bootstrap is None:
        boots = [0.0] * len(r)
    elif isinstance(bootstrap, torch.Tensor):
        boots = bootstrap.double().expand(rewards.shape[:-1]).reshape(-1).tolist() if bootstrap.dim() else [
            float(bootstrap)] * len(r)
    else:
        boots = [float(bootstrap)] * len(r)
    rows = []
    for rr, dd, g in zip(r, d, boots):
        out = [0.0] * len(rr)
        for t in reversed(range(len(rr))):
            g = rr[t] + (0.0 if dd[t] else gamma * g)
            out[t] = g
        rows.append(out)
    return torch.tensor(rows, dtype=torch.float64).reshape(rewards.shape)


def oracle_normalize(x, eps=1e-8) -> torch.Tensor:
    v = x.double().reshape(-1).tolist()
    n = len(v)
    mean = math.fsum(v) / n
    std = math.sqrt(math.fsum((a - mean) ** 2 for a in v) / (n - 1)) if n > 1 else 0.0
    return torch.tensor([(a - mean) / (std + eps) for a in v], dtype=torch.float64).reshape(x.shape)


def rollout(seed, shape, p_done=0.2, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    rewards = (torch.randn(shape, generator=g, dtype=torch.float64) * 2).to(dtype)
    dones = torch.rand(shape, generator=g) < p_done
    gamma = float(torch.rand((), generator=g))
    return rewards, dones, gamma, g


def agree(got, rewards, dones, gamma, bootstrap, rule, what, rtol=1e-5, atol=1e-5):
    want = oracle_returns(rewards, dones, gamma, bootstrap)
    out = expect_tensor(got["out"], rule + " (return a tensor)")
    expect_close(out, want.to(rewards.dtype), rule, rtol=rtol, atol=atol, what=what)


RULE = "G_t = r_t + gamma * (1 - done_t) * G_{t+1}, with G after the last step = bootstrap_value (or 0)"


# --------------------------------------------------------------------------------------------
# discounted_returns
# --------------------------------------------------------------------------------------------

@check("agrees with a step-by-step loop on random flat rollouts holding several episodes", points=2)
def random_flat(run):
    for seed in range(10):
        T = 1 + (7 * seed) % 40
        rewards, dones, gamma, g = rollout(seed, (T,))
        boot = None if seed % 3 == 0 else float(torch.randn((), generator=g)) * 3
        got = run(V.returns, rewards, dones, gamma, boot)
        agree(got, rewards, dones, gamma, boot, RULE,
              f"returns (T={T}, gamma={gamma:.3f}, bootstrap={boot}, seed {seed})")


@check("batched (B, T): every row is its own stream with its own bootstrap value", points=2)
def random_batched(run):
    for seed in range(10, 18):
        g0 = torch.Generator().manual_seed(seed)
        B, T = int(torch.randint(1, 6, (1,), generator=g0)), int(torch.randint(1, 30, (1,), generator=g0))
        rewards, dones, gamma, g = rollout(seed, (B, T))
        boot = [None, torch.randn(B, generator=g) * 3, 2.5][seed % 3]
        got = run(V.returns, rewards, dones, gamma, boot)
        agree(got, rewards, dones, gamma, boot,
              "each row of a (B, T) batch is an independent stream: no returns flow from one row into "
              "another, and row i bootstraps with bootstrap_value[i]",
              f"returns (B={B}, T={T}, seed {seed})")


@check("bootstrap_value is used only when the last step is not done, per stream")
def bootstrap_rules(run):
    rewards = torch.tensor([[1.0, 2.0], [1.0, 2.0], [3.0, 0.0]])
    dones = torch.tensor([[False, True], [False, False], [True, False]])
    boot = torch.tensor([100.0, 10.0, -4.0])
    got = run(V.returns, rewards, dones, 0.5, boot)
    want = torch.tensor([[2.0, 2.0], [1.0 + 0.5 * 7.0, 7.0], [3.0, -2.0]])
    expect_close(got["out"], want, "a done last step ignores bootstrap_value; an open one adds gamma * "
                 "bootstrap_value[i] to row i", what="returns")
    got = run(V.returns, torch.tensor([1.0, 1.0]), torch.tensor([0, 0]), 0.5, torch.tensor(4.0))
    expect_close(got["out"], torch.tensor([2.5, 3.0]), "bootstrap_value may be a 0-dim tensor", what="returns")
    got = run(V.returns, torch.tensor([1.0, 1.0]), torch.tensor([0, 0]), 0.5, None)
    expect_close(got["out"], torch.tensor([1.5, 1.0]), "bootstrap_value None counts as 0", what="returns")


@check("dones may be bool, 0/1 floats, int64 or uint8: all mean the same")
def dones_dtypes(run):
    rewards, dones, gamma, _ = rollout(30, (3, 12), p_done=0.3)
    want = oracle_returns(rewards, dones, gamma, None).float()
    for dtype in (torch.float32, torch.int64, torch.uint8, torch.bool):
        got = run(V.returns, rewards, dones.to(dtype), gamma)
        expect_close(got["out"], want, "dones[..., t] == 1 (or True) ends the episode at step t, whatever "
                     "its dtype", what=f"returns with dones of dtype {str(dtype).replace('torch.', '')}")


@check("gamma = 0 gives the rewards, gamma = 1 undiscounted per-episode sums, T = 1 works")
def gamma_extremes(run):
    rewards, dones, _, _ = rollout(40, (2, 15), p_done=0.25)
    got = run(V.returns, rewards, dones, 0.0, torch.tensor([5.0, 5.0]))
    expect_close(got["out"], rewards, "with gamma = 0 every G_t is just r_t (the bootstrap is discounted "
                 "away too)", what="returns (gamma=0)")
    got = run(V.returns, rewards, dones, 1.0, torch.tensor([5.0, -5.0]))
    expect_close(got["out"], oracle_returns(rewards, dones, 1.0, torch.tensor([5.0, -5.0])).float(),
                 "with gamma = 1, G_t is the plain sum of the rewards left in the episode", what="returns (gamma=1)")
    got = run(V.returns, torch.tensor([2.0]), torch.tensor([False]), 0.9, 10.0)
    expect_close(got["out"], torch.tensor([11.0]), "a single step: G_0 = r_0 + gamma * bootstrap_value",
                 what="returns (T=1)")


@check("keeps the dtype (float64 stays float64, exact) and does not modify its inputs")
def dtype_and_inputs(run):
    rewards, dones, gamma, _ = rollout(50, (4, 20), dtype=torch.float64)
    rewards_before, dones_before = rewards.clone(), dones.clone()
    got = run(V.returns, rewards, dones, gamma, torch.ones(4, dtype=torch.float64))
    expect_close(got["out"], oracle_returns(rewards, dones, gamma, torch.ones(4, dtype=torch.float64)),
                 RULE + "; the result has the dtype of rewards (float64 here, computed in float64)", check_dtype=True,
                 rtol=1e-12, atol=1e-12, what="returns")
    expect_close(got["rewards_after"], rewards_before, "do not modify rewards (return a new tensor)",
                 rtol=0, atol=0, what="rewards after the call")
    expect_close(got["dones_after"], dones_before, "do not modify dones", rtol=0, atol=0, what="dones after the call")


@check("a 10^4-step horizon stays finite and exact: gamma = 0.99 in one long episode, and gamma = 1", points=2)
def long_horizon(run):
    T = 10_000
    g = torch.Generator().manual_seed(60)
    rewards = torch.rand(T, generator=g) + 0.5                      # positive: G grows to ~100 (gamma .99)
    no_dones = torch.zeros(T, dtype=torch.bool)
    got = run(V.returns, rewards, no_dones, 0.99, 3.0)
    out = expect_tensor(got["out"], "return a tensor", shape=(T,))
    bad = (~torch.isfinite(out)).nonzero().reshape(-1)
    expect(len(bad) == 0, "compute G by the backward recursion: closed forms that divide by gamma^t "
           "overflow or give NaN once 0.99^t underflows (t ~ 10^4)",
           f"{len(bad)} of {T} returns are inf or NaN, first at t = {int(bad[0]) if len(bad) else -1}")
    expect_close(out, oracle_returns(rewards, no_dones, 0.99, 3.0).float(), RULE + " -- over T = 10^4 steps "
                 "with gamma = 0.99 (use the backward recursion: closed forms through gamma^t lose precision)",
                 rtol=1e-4, atol=1e-3, what="returns")
    rewards = torch.randn(T, generator=g)
    dones = torch.zeros(T, dtype=torch.bool)
    dones[[2999, 7999]] = True                                      # three episodes, the last one open
    got = run(V.returns, rewards, dones, 1.0, -2.0)
    out = expect_tensor(got["out"], "return a tensor", shape=(T,))
    want = oracle_returns(rewards, dones, 1.0, -2.0)
    expect_close(out, want.float(), RULE + " (T = 10^4, gamma = 1)", rtol=1e-4,
                 atol=1e-5 * float(want.abs().max()) + 1e-3, what="returns")


# --------------------------------------------------------------------------------------------
# normalize_returns
# --------------------------------------------------------------------------------------------

NORM_RULE = "(returns - mean) / (std + eps) over all entries, std unbiased (divide by N - 1)"


@check("normalize_returns agrees with (x - mean) / (std + eps) on random tensors of rank 1 to 3")
def normalize_random(run):
    for seed in range(70, 76):
        g = torch.Generator().manual_seed(seed)
        rank = 1 + seed % 3
        shape = tuple(int(s) for s in torch.randint(2, 7, (rank,), generator=g))
        x = torch.randn(shape, generator=g) * 5 + 3
        eps = [1e-8, 0.5][seed % 2]
        got = run(V.normalize, x, eps)
        out = expect_tensor(got["out"], NORM_RULE + " (return a tensor)")
        expect_close(out, oracle_normalize(x, eps).float(), NORM_RULE + " -- eps is added to the std, not the "
                     "variance", what=f"normalised returns (shape {list(shape)}, eps={eps}, seed {seed})")


@check("constant returns and a single entry normalise to 0 (finite, no NaN)")
def normalize_degenerate(run):
    x = torch.tensor([1.0, 2.0, 4.0, -3.0])
    got = run(V.normalize, x)
    expect_close(got["out"], oracle_normalize(x), "normalised returns are (x - mean) / (std + eps), std unbiased "
                 "(N - 1)", what="normalised [1, 2, 4, -3]")
    tiny = torch.tensor([0.0, 1e-7, 2e-7, 3e-7], dtype=torch.float64)     # std 1.1e-7: eps is not negligible
    got = run(V.normalize, tiny)
    expect_close(got["out"], oracle_normalize(tiny), "the default eps is 1e-8, added to the std: returns 1e-7 apart "
                 "normalise to about +-1.2 (with 1e-6 they would shrink to +-0.12)", rtol=1e-9, atol=1e-12,
                 what="normalised [0, 1e-7, 2e-7, 3e-7] with the default eps")
    got = run(V.normalize, torch.full((6,), 7.0))
    expect_close(got["out"], torch.zeros(6), "constant returns have std 0: the result is 0 / eps = 0",
                 what="normalised constant returns")
    got = run(V.normalize, torch.tensor([3.0]))
    expect_close(got["out"], torch.zeros(1), "a single entry has std 0 by definition and maps to 0 "
                 "(torch.std of one entry is NaN: do not divide by N - 1 = 0)", what="normalised single entry")


@check("normalisation is accurate on a large offset (10^4 + noise, float32), keeps dtype, leaves input alone")
def normalize_stable(run):
    g = torch.Generator().manual_seed(80)
    x = torch.randn(2000, generator=g) + 1e4
    before = x.clone()
    got = run(V.normalize, x)
    out = expect_tensor(got["out"], "return a tensor", shape=(2000,), dtype=torch.float32)
    expect(bool(torch.isfinite(out).all()), "stay finite on returns with a large offset: centre first, then "
           "square (E[x^2] - E[x]^2 cancels catastrophically in float32)",
           f"{int((~torch.isfinite(out)).sum())} of 2000 results are inf or NaN")
    expect_close(out, oracle_normalize(x).float(), NORM_RULE + ", accurate when the returns sit on a large "
                 "offset: centre before squaring", rtol=1e-3, atol=5e-3, what="normalised returns")
    expect_close(got["x_after"], before, "do not modify the input", rtol=0, atol=0, what="returns after the call")
    got = run(V.normalize, x.double())
    expect_tensor(got["out"], "float64 in, float64 out", dtype=torch.float64)
