"""Hidden graders of rl/td_lambda: lambda-returns against a Python loop on random flat and batched
rollouts with episode boundaries, the lambda = 0 (TD(0) targets) and lambda = 1 (Monte-Carlo)
limits, detached targets, a long horizon; TD(lambda) with accumulating traces against a loop, the
offline backward view equal to the forward view for lambda = 0, 1 and in between, online TD(0),
terminal versus cut-off episodes, revisited states."""
import torch

from mlkata.checks import check, expect, expect_close, expect_tensor, visible_module

V = visible_module("rl/td_lambda")


# --------------------------------------------------------------------------------------------
# Oracles: Python loops over floats
# --------------------------------------------------------------------------------------------

def _rows(x, T):
    return x.double().reshape(-1, T).tolist() if x.is_floating_point() else x.bool().reshape(-1, T).tolist()


def _boots(bootstrap, shape, n):
    if bootstrap is None:
        return [0.0] * n
    if isinstance(bootstrap, torch.Tensor):
        return bootstrap.double().expand(shape).reshape(-1).tolist()
    return [float(bootstrap)] * n


def oracle_lambda_returns(rewards, values, dones, gamma, lam, bootstrap=None):
    T = rewards.shape[-1]
    rs, vs, ds = _rows(rewards, T), _rows(values.detach(), T), _rows(dones.bool(), T)
    out = []
    for r, v, d, b in zip(rs, vs, ds, _boots(bootstrap, rewards.shape[:-1], len(rs))):
        g, v_next, row = b, b, [0.0] * T
        for t in reversed(range(T)):
            g = r[t] + (0.0 if d[t] else gamma * ((1 - lam) * v_next + lam * g))
            row[t] = g
            v_next = v[t]
        out.append(row)
    return torch.tensor(out, dtype=torch.float64).reshape(rewards.shape)


def oracle_td0_targets(rewards, values, dones, gamma, bootstrap=None):
    nxt = torch.cat([values[..., 1:].double(), torch.as_tensor(0.0 if bootstrap is None else bootstrap,
                                                                 dtype=torch.float64).expand(values.shape[:-1]).unsqueeze(-1)], -1)
    return rewards.double() + gamma * (~dones.bool()).double() * nxt


def oracle_mc_returns(rewards, dones, gamma, bootstrap=None):
    T = rewards.shape[-1]
    out = []
    for r, d, b in zip(_rows(rewards, T), _rows(dones.bool(), T), _boots(bootstrap, rewards.shape[:-1], len(_rows(rewards, T)))):
        g, row = b, [0.0] * T
        for t in reversed(range(T)):
            g = r[t] + (0.0 if d[t] else gamma * g)
            row[t] = g
        out.append(row)
    return torch.tensor(out, dtype=torch.float64).reshape(rewards.shape)


def oracle_episode(V0, states, rewards, gamma, lam, alpha, terminal=True, online=True):
    """Backward view with accumulating traces, one plain loop."""
    Vs = V0.double().tolist()
    start = list(Vs)
    s = [int(x) for x in states]
    r = rewards.double().tolist()
    T = len(r)
    z = [0.0] * len(Vs)
    inc = [0.0] * len(Vs)
    for t in range(T):
        table = Vs if online else start
        v_next = 0.0 if terminal and t == T - 1 else table[s[t + 1]]
        delta = r[t] + gamma * v_next - table[s[t]]
        z = [gamma * lam * x for x in z]
        z[s[t]] += 1.0
        for i in range(len(Vs)):
            if online:
                Vs[i] += alpha * delta * z[i]
            else:
                inc[i] += alpha * delta * z[i]
    return torch.tensor(Vs if online else [a + b for a, b in zip(start, inc)], dtype=torch.float64)


def oracle_forward_view(V0, states, rewards, gamma, lam, alpha, terminal=True):
    """Offline forward view: V(s_t) += alpha (G^lambda_t - V(s_t)) for every t, from lambda-returns."""
    s = states.long()
    T = rewards.shape[0]
    values = V0.double()[s[:-1]]
    boot = 0.0 if terminal else float(V0[s[-1]])
    G = oracle_lambda_returns(rewards.double(), values, torch.zeros(T, dtype=torch.bool), gamma, lam, boot)
    out = V0.double().clone()
    out.index_add_(0, s[:-1], alpha * (G - values))
    return out


def rollout(seed, shape, p_done=0.2):
    g = torch.Generator().manual_seed(seed)
    rewards = torch.randn(shape, generator=g)
    values = torch.randn(shape, generator=g) * 2
    dones = torch.rand(shape, generator=g) < p_done
    gamma, lam = float(torch.rand((), generator=g)) * 0.5 + 0.5, float(torch.rand((), generator=g))
    return rewards, values, dones, gamma, lam, g


def random_episode(seed, S=5, T=None):
    g = torch.Generator().manual_seed(seed)
    T = T or int(torch.randint(2, 15, (1,), generator=g))
    V0 = torch.randn(S, generator=g, dtype=torch.float64)
    states = torch.randint(S, (T + 1,), generator=g)                  # small S: states repeat
    rewards = torch.randn(T, generator=g, dtype=torch.float64)
    return V0, states, rewards, g


RULE = ("G^lambda_t = r_t + gamma (1 - done_t) ((1 - lambda) V(s_{t+1}) + lambda G^lambda_{t+1}), "
        "V(s_{t+1}) = values[t+1], and V(s_T) = G_T = bootstrap_value")
TRACE_RULE = ("delta_t = r_t + gamma V(s_{t+1}) - V(s_t); z <- gamma lambda z; z[s_t] += 1; V += alpha delta_t z "
              "(accumulating traces)")


# --------------------------------------------------------------------------------------------
# lambda_returns
# --------------------------------------------------------------------------------------------

@check("lambda_returns agrees with a step-by-step loop on random flat rollouts with episode ends", points=2)
def lambda_flat(run):
    for seed in range(10):
        T = 1 + (5 * seed) % 30
        rewards, values, dones, gamma, lam, g = rollout(seed, (T,))
        boot = None if seed % 3 == 0 else float(torch.randn((), generator=g))
        got = run(V.lret, rewards, values, dones, gamma, lam, boot)
        out = expect_tensor(got["out"], "return a tensor of the rewards' shape", shape=(T,))
        expect_close(out, oracle_lambda_returns(rewards, values, dones, gamma, lam, boot).float(), RULE,
                     what=f"lambda-returns (T={T}, gamma={gamma:.3f}, lambda={lam:.3f}, bootstrap={boot}, seed {seed})")


@check("batched (B, T): each row is its own stream with its own bootstrap value")
def lambda_batched(run):
    for seed in range(20, 26):
        B, T = 1 + seed % 4, 3 + seed % 7
        rewards, values, dones, gamma, lam, g = rollout(seed, (B, T))
        boot = [None, torch.randn(B, generator=g), 1.5][seed % 3]
        got = run(V.lret, rewards, values, dones, gamma, lam, boot)
        expect_close(got["out"], oracle_lambda_returns(rewards, values, dones, gamma, lam, boot).float(),
                     RULE + "; rows are independent", what=f"lambda-returns (B={B}, T={T}, seed {seed})")


@check("lambda = 0 is the TD(0) target and lambda = 1 the Monte-Carlo return, on random rollouts")
def lambda_limits(run):
    for seed in range(30, 34):
        rewards, values, dones, gamma, _, g = rollout(seed, (3, 12), p_done=0.25)
        boot = torch.randn(3, generator=g)
        got = run(V.lret, rewards, values, dones, gamma, 0.0, boot)
        expect_close(got["out"], oracle_td0_targets(rewards, values, dones, gamma, boot).float(),
                     "with lambda = 0, G_t = r_t + gamma (1 - done_t) V(s_{t+1}): the one-step TD(0) target",
                     what=f"lambda-returns at lambda = 0 (seed {seed})")
        got = run(V.lret, rewards, values, dones, gamma, 1.0, boot)
        expect_close(got["out"], oracle_mc_returns(rewards, dones, gamma, boot).float(),
                     "with lambda = 1, G_t is the discounted return to the episode's end (values are not used, "
                     "except bootstrap_value for an open last episode)", what=f"lambda-returns at lambda = 1 (seed {seed})")


@check("targets are constants (no grad even if values requires grad); inputs untouched; dtype kept")
def targets_detached(run):
    rewards, values, dones, gamma, lam, _ = rollout(40, (2, 8))
    got = run(V.lret, rewards, values, dones, gamma, lam, None, True)
    expect(got["requires_grad"] is False, "lambda-returns are regression targets: detach them (values.detach()), "
           "so that a critic trained on them is not differentiated through its own targets",
           "the returned tensor requires grad")
    expect_close(got["values_after"], values, "do not modify values", rtol=0, atol=0, what="values after the call")
    expect_close(got["rewards_after"], rewards, "do not modify rewards", rtol=0, atol=0, what="rewards after the call")
    r64, v64 = rewards.double(), values.double()
    got = run(V.lret, r64, v64, dones.to(torch.int64), gamma, lam, torch.ones(2, dtype=torch.float64))
    expect_close(got["out"], oracle_lambda_returns(r64, v64, dones, gamma, lam, torch.ones(2, dtype=torch.float64)),
                 RULE + "; float64 in, float64 out; dones may be 0/1 integers", check_dtype=True, rtol=1e-12,
                 atol=1e-12, what="lambda-returns (float64)")


@check("a 5000-step rollout with gamma = 0.999 stays finite and exact")
def lambda_long(run):
    T = 5000
    g = torch.Generator().manual_seed(50)
    rewards, values = torch.rand(T, generator=g), torch.rand(T, generator=g) * 100
    dones = torch.zeros(T, dtype=torch.bool)
    dones[2499] = True
    got = run(V.lret, rewards, values, dones, 0.999, 0.9, 50.0)
    out = expect_tensor(got["out"], "return a tensor", shape=(T,))
    expect(bool(torch.isfinite(out).all()), "use the backward recursion: it is stable over any horizon",
           f"{int((~torch.isfinite(out)).sum())} of {T} entries are inf or NaN")
    expect_close(out, oracle_lambda_returns(rewards, values, dones, 0.999, 0.9, 50.0).float(), RULE,
                 rtol=1e-4, atol=1e-3, what="lambda-returns (T = 5000)")


# --------------------------------------------------------------------------------------------
# td_lambda_episode
# --------------------------------------------------------------------------------------------

@check("online TD(lambda) agrees with a loop on random episodes with revisited states", points=2)
def traces_online(run):
    for seed in range(60, 68):
        V0, states, rewards, g = random_episode(seed)
        gamma, lam, alpha = 0.9, [0.0, 0.3, 0.8, 1.0][seed % 4], 0.1 + 0.1 * (seed % 3)
        terminal = seed % 2 == 0
        got = run(V.episode, V0, states, rewards, gamma, lam, alpha, terminal, True)
        out = expect_tensor(got["V"], "return the updated values, a tensor (S,)", shape=V0.shape)
        expect_close(out, oracle_episode(V0, states, rewards, gamma, lam, alpha, terminal, True),
                     TRACE_RULE + "; online: each delta uses the V updated so far",
                     rtol=1e-9, atol=1e-9, what=f"V after the episode (states {states.tolist()}, lambda={lam}, "
                     f"terminal={terminal}, seed {seed})")
        expect_close(got["V_in_after"], V0, "do not modify the V you are given", rtol=0, atol=0,
                     what="V passed in, after the call")


@check("offline backward view == forward view (alpha (G^lambda_t - V(s_t))) for lambda = 0 (TD(0)), "
       "1 (Monte Carlo) and in between", points=2)
def offline_equals_forward_view(run):
    for seed, lam in zip(range(70, 76), [0.0, 1.0, 0.5, 0.0, 1.0, 0.9]):
        V0, states, rewards, g = random_episode(seed)
        terminal = seed % 2 == 0
        got = run(V.episode, V0, states, rewards, 0.95, lam, 0.2, terminal, False)
        want = oracle_forward_view(V0, states, rewards, 0.95, lam, 0.2, terminal)
        name = {0.0: "TD(0)", 1.0: "Monte Carlo"}.get(lam, f"lambda = {lam}")
        expect_close(got["V"], want, "offline (online=False): every delta uses the starting V and the summed "
                     "increments are applied at the end -- which equals crediting each visit with "
                     f"alpha (G^lambda_t - V(s_t)) ({name})", rtol=1e-9, atol=1e-9,
                     what=f"V after an offline episode ({name}, terminal={terminal}, seed {seed})")


@check("online TD(0) (lambda = 0) is the step-by-step V(s_t) += alpha (r_t + gamma V(s_{t+1}) - V(s_t))")
def online_td0(run):
    V0 = torch.tensor([0.0, 1.0, 2.0, 0.0], dtype=torch.float64)
    states, rewards = torch.tensor([0, 1, 0, 2, 3]), torch.tensor([1.0, -1.0, 0.5, 2.0], dtype=torch.float64)
    want = V0.clone()
    for t in range(4):
        v_next = 0.0 if t == 3 else float(want[states[t + 1]])
        want[states[t]] += 0.5 * (float(rewards[t]) + 0.9 * v_next - float(want[states[t]]))
    got = run(V.episode, V0, states, rewards, 0.9, 0.0, 0.5, True, True)
    expect_close(got["V"], want, "with lambda = 0 the trace is 1 at s_t only: plain TD(0), each update seeing the "
                 "previous ones (state 0 is visited twice)", rtol=1e-12, atol=1e-12, what="V after the episode")


@check("terminal=True ignores V[s_T]; terminal=False bootstraps the last step from it")
def terminal_vs_cutoff(run):
    V0 = torch.tensor([0.0, 0.0, 10.0], dtype=torch.float64)
    states, rewards = torch.tensor([0, 1, 2]), torch.tensor([0.0, 1.0], dtype=torch.float64)
    for terminal in (True, False):
        for online in (True, False):
            got = run(V.episode, V0, states, rewards, 0.5, 1.0, 1.0, terminal, online)
            want = oracle_episode(V0, states, rewards, 0.5, 1.0, 1.0, terminal, online)
            expect_close(got["V"], want, "a terminal s_T has value 0 whatever V[s_T] holds; a cut-off episode "
                         "(terminal=False) bootstraps from V[s_T]", rtol=1e-12, atol=1e-12,
                         what=f"V (terminal={terminal}, online={online})")


@check("keeps V's dtype (float32 stays float32); terminal and online default to True")
def episode_dtype(run):
    V0, states, rewards, _ = random_episode(80)
    got = run(V.episode, V0.float(), states, rewards.float(), 0.9, 0.7, 0.3)      # terminal, online: defaults
    out = expect_tensor(got["V"], "return V in its own dtype (float32 here)", dtype=torch.float32)
    expect_close(out, oracle_episode(V0.float(), states, rewards.float(), 0.9, 0.7, 0.3).float(), TRACE_RULE,
                 what="V (float32)")
