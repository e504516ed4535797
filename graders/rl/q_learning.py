"""Hidden graders of rl/q_learning: the update against the formula on random tables (float32 and
float64, terminal and self-loop transitions, in place); epsilon-greedy action rates (ties,
epsilon = 0 and 1) and reproducibility from the generator; training on FrozenLake 4x4 (not
slippery) against Q* from value iteration, and on a never-ending loop where a cut-off episode
must still bootstrap."""
import torch

from mlkata.checks import Fail, check, expect, expect_close, expect_equal, expect_rate, probe, visible_module

V = visible_module("rl/q_learning")


# --------------------------------------------------------------------------------------------
# Oracles
# --------------------------------------------------------------------------------------------

def oracle_update(Q, s, a, r, s_next, done, alpha, gamma):
    """(Q after, TD error), in double precision from Q before the update."""
    Q = Q.double().clone()
    td = r + (0.0 if done else gamma * float(Q[s_next].max())) - float(Q[s, a])
    Q[s, a] += alpha * td
    return Q, td


def q_star(env, gamma, sweeps=1000) -> torch.Tensor:
    """Q* of a deterministic table by value iteration (terminal states have Q* = 0)."""
    S, A = env.n_states, env.n_actions
    table = [[env.transition(s, a) for a in range(A)] for s in range(S)]
    Q = torch.zeros(S, A, dtype=torch.float64)
    for _ in range(sweeps):
        best = Q.max(dim=1).values
        new = torch.tensor([[r + (0.0 if d else gamma * float(best[s2])) for (s2, r, d) in row] for row in table],
                           dtype=torch.float64)
        if torch.equal(new, Q):
            break
        Q = new
    return Q


def as_actions(got, rule):
    """The probe's list of actions as ints, or a Fail naming what came back."""
    if not isinstance(got, list) or not all(isinstance(a, int) and not isinstance(a, bool) or
                                            isinstance(a, torch.Tensor) and a.numel() == 1 for a in got):
        raise Fail(rule, f"epsilon_greedy must return an int action, your code produced {got[:3]!r}"[:400])
    return [int(a) for a in got]


@probe
def reproducible_actions(sub, q_values, epsilon, n):
    """Two runs from generators with the same seed, one from another seed."""
    runs = []
    for seed in (5, 5, 6):
        g = torch.Generator().manual_seed(seed)
        runs.append([int(sub.epsilon_greedy(q_values, epsilon, g)) for _ in range(n)])
    return runs


@probe
def reproducible_training(sub, env_class, episodes):
    """Q from two training runs with the same seed and one with another seed."""
    out = []
    for seed in (3, 3, 4):
        env = env_class()
        Q = sub.train_q_learning(env.step, env.reset, env.n_states, env.n_actions, episodes, alpha=0.5,
                                 gamma=0.9, epsilon=0.5, max_steps=100, generator=torch.Generator().manual_seed(seed))
        out.append({"Q": Q, "steps": env.steps})
    return out


# --------------------------------------------------------------------------------------------
# q_update
# --------------------------------------------------------------------------------------------

@check("q_update agrees with Q[s,a] += alpha (r + gamma max Q[s'] (1 - done) - Q[s,a]) on random tables", points=2)
def update_random(run):
    for seed in range(12):
        g = torch.Generator().manual_seed(seed)
        S, A = int(torch.randint(2, 7, (1,), generator=g)), int(torch.randint(2, 5, (1,), generator=g))
        dtype = (torch.float32, torch.float64)[seed % 2]
        Q = (torch.randn(S, A, generator=g, dtype=torch.float64) * 3).to(dtype)
        s, s_next = (int(v) for v in torch.randint(S, (2,), generator=g))
        a = int(torch.randint(A, (1,), generator=g))
        r = float(torch.randn((), generator=g))
        done = bool(seed % 3 == 0)
        alpha, gamma = float(torch.rand((), generator=g)) * 0.9 + 0.1, float(torch.rand((), generator=g))
        want_Q, want_td = oracle_update(Q, s, a, r, s_next, done, alpha, gamma)
        got = run(V.update, Q, s, a, r, s_next, done, alpha, gamma)
        case = f"(s={s}, a={a}, r={r:.3f}, s'={s_next}, done={done}, alpha={alpha:.3f}, gamma={gamma:.3f}, seed {seed})"
        rule = "TD error = r + gamma * max_a' Q[s', a'] * (1 - done) - Q[s, a]; then Q[s, a] += alpha * TD error"
        expect_close(got["td"], want_td, rule, what=f"returned TD error {case}")
        expect_close(got["Q"], want_Q.to(dtype), rule + " (in place, only entry [s, a] changes)",
                     what=f"Q after the update {case}")


@check("q_update changes Q in place and reads everything before writing (also when s' == s)")
def update_in_place_self_loop(run):
    Q = torch.tensor([[1.0, 2.0], [0.0, 0.0]])
    got = run(V.update, Q, 0, 1, 0.0, 0, False, 0.5, 0.9)       # a wall bump: s' = s, and a is the argmax
    expect(isinstance(got["Q"], torch.Tensor) and not torch.equal(got["Q"], Q),
           "update the Q tensor you are given in place (Q[s, a] += ...), do not work on a copy",
           f"Q after the call is unchanged: {got['Q'].tolist() if isinstance(got['Q'], torch.Tensor) else got['Q']}")
    expect_close(got["td"], 0.9 * 2.0 - 2.0, "the TD error uses Q[s'] before the update, even when s' == s",
                 what="returned TD error (s' == s)")
    expect_close(got["Q"], torch.tensor([[1.0, 1.9], [0.0, 0.0]]),
                 "Q[s, a] += alpha * (r + gamma * max Q[s'] - Q[s, a]) with every Q read before the write",
                 what="Q after the update (s' == s)")
    expect(isinstance(got["td"], float), "q_update returns the TD error as a Python float",
           f"it returned a {type(got['td']).__name__}")


# --------------------------------------------------------------------------------------------
# epsilon_greedy
# --------------------------------------------------------------------------------------------

def action_rates(run, q, epsilon, n, seed, rule):
    acts = as_actions(run(V.actions, q, epsilon, seed, n), rule)
    A = len(q)
    bad = [a for a in acts if not 0 <= a < A]
    expect(not bad, "actions are ints in [0, A)", f"your code produced action {bad[:1]} for A = {A}")
    greedy = (q == q.max())
    k = int(greedy.sum())
    for a in range(A):
        p = epsilon / A + (1 - epsilon) * float(greedy[a]) / k
        count = sum(1 for x in acts if x == a)
        if p == 0.0:
            expect(count == 0, rule, f"action {a} (not greedy) was chosen {count} times out of {n} with "
                   f"epsilon = {epsilon}; it must never be")
        else:
            expect_rate(count, n, p, rule, what=f"rate of action {a} for q = {q.tolist()}, epsilon = {epsilon}")


@check("epsilon-greedy rates: epsilon / A + (1 - epsilon) / (#greedy) for greedy actions, with ties", points=2)
def epsilon_rates(run):
    action_rates(run, torch.tensor([1.0, 3.0, 3.0]), 0.3, 10000, 11,
                 "with probability epsilon pick uniformly among ALL actions, otherwise a greedy one; "
                 "ties among greedy actions are broken uniformly at random")


@check("epsilon = 0 breaks ties uniformly at random; epsilon = 1 is uniform over all actions")
def epsilon_extremes(run):
    action_rates(run, torch.tensor([2.0, 5.0, 5.0, 5.0]), 0.0, 3000, 12,
                 "with epsilon = 0 pick among the tied greedy actions uniformly at random (not always the lowest index)")
    action_rates(run, torch.tensor([0.0, 10.0, 0.0]), 1.0, 3000, 13,
                 "with epsilon = 1 every action is equally likely, the greedy one included")


@check("epsilon_greedy draws only from the generator: the same seed gives the same actions")
def epsilon_reproducible(run):
    runs = run(reproducible_actions, torch.tensor([0.0, 1.0, 1.0, 0.5]), 0.5, 200)
    expect(runs[0] == runs[1], "draw every random number from the generator argument (torch.rand(..., "
           "generator=g)), never from the global RNG: the same seed must give the same actions",
           f"two generators seeded with 5 gave different actions: {runs[0][:10]} vs {runs[1][:10]}")
    expect(runs[0] != runs[2], "draw every random number from the generator argument",
           "generators seeded with 5 and 6 gave exactly the same 200 actions: is the generator used at all?")


# --------------------------------------------------------------------------------------------
# train_q_learning
# --------------------------------------------------------------------------------------------

@check("FrozenLake 4x4: Q equals Q* on the learned path, stays within [0, Q*], and the env is driven correctly",
       points=3)
def frozen_lake_towards_q_star(run):
    env = V.GridWorld()
    episodes, max_steps = 1000, 100
    got = run(V.train, env, episodes, 0.5, 0.9, 0.5, max_steps, 21)
    Q = got["Q"]
    expect(isinstance(Q, torch.Tensor) and tuple(Q.shape) == (16, 4) and Q.is_floating_point(),
           "train_q_learning returns a float tensor (S, A)", f"it returned {Q!r}"[:300])
    expect_equal(got["resets"], episodes, "call reset() exactly once per episode", what="number of reset() calls")
    expect_equal(got["steps_after_done"], 0, "end the episode when step returns done: never step on from a "
                 "terminal state", what="steps taken after done")
    expect(got["longest"] <= max_steps, "cut an episode off after max_steps steps",
           f"an episode ran {got['longest']} steps with max_steps = {max_steps}")
    Qs = q_star(env, 0.9)
    Qd = Q.detach().double()
    expect(bool((Qd >= -1e-6).all()) and bool((Qd <= Qs + 1e-5).all()),
           "from Q = 0 with rewards >= 0, every Q-learning update keeps 0 <= Q <= Q* (Q* from value iteration); "
           "a value above Q* means the update overshoots its target",
           f"largest Q - Q*: {float((Qd - Qs).max()):.4g} at (s, a) = "
           f"{divmod(int((Qd - Qs).argmax()), 4)}; smallest Q: {float(Qd.min()):.4g}")
    path, reward = V.greedy_path(env, Q)
    expect(reward == 1.0 and len(path) == 7, "the greedy policy of the trained Q walks from S to G in 6 steps",
           f"greedy path: {path} (reward {reward})")
    on_path = torch.tensor([float(Qd[s, int(Qd[s].argmax())]) for s in path[:-1]], dtype=torch.float64)
    expect_close(on_path, torch.tensor([float(Qs[s].max()) for s in path[:-1]], dtype=torch.float64),
                 "Q converges to Q* (= gamma^(steps to go - 1)) along the path the agent keeps taking",
                 atol=1e-4, rtol=1e-4, what=f"Q[s, greedy a] along the greedy path {path[:-1]}")


@check("an episode cut off by max_steps is not terminal: Q still converges to Q* = [10, 9.5] on a loop", points=2)
def truncation_bootstraps(run):
    env = V.LoopWorld()
    got = run(V.train, env, 400, 0.5, 0.9, 0.5, 5, 31)
    expect_equal(got["resets"], 400, "call reset() exactly once per episode", what="number of reset() calls")
    expect_equal(got["steps"], 400 * 5, "an episode that never ends runs exactly max_steps steps",
                 what="total number of steps")
    Q = got["Q"]
    expect(isinstance(Q, torch.Tensor) and tuple(Q.shape) == (1, 2), "train_q_learning returns a tensor (S, A)",
           f"it returned {Q!r}"[:300])
    expect_close(Q.double(), torch.tensor([[10.0, 9.5]], dtype=torch.float64),
                 "only the done returned by step is terminal: the last step of an episode cut off by max_steps "
                 "still bootstraps from max Q[s'] (Q* = r + 0.9 * 10)", atol=1e-3, rtol=1e-4, what="Q")


@check("training is reproducible: the same generator seed gives the same Q, another seed a different one")
def training_reproducible(run):
    runs = run(reproducible_training, V.GridWorld, 60)
    Qs = [r["Q"] for r in runs]
    expect(all(isinstance(q, torch.Tensor) for q in Qs), "train_q_learning returns a tensor",
           f"it returned {[type(q).__name__ for q in Qs]}")
    same = torch.equal(Qs[0].double(), Qs[1].double()) and runs[0]["steps"] == runs[1]["steps"]
    expect(same, "draw all randomness from the generator argument: two runs with generators of the same seed "
           "must take the same steps and give identical Q",
           f"same seed, two runs: {runs[0]['steps']} vs {runs[1]['steps']} environment steps, largest difference "
           f"in Q {float((Qs[0].double() - Qs[1].double()).abs().max()):.4g}")
    expect(runs[0]["steps"] != runs[2]["steps"] or not torch.equal(Qs[0].double(), Qs[2].double()),
           "pass the generator argument on to epsilon_greedy",
           "seeds 3 and 4 gave exactly the same training run: is the generator used at all?")


# --------------------------------------------------------------------------------------------
# The defaults of train_q_learning: alpha 0.5, gamma 0.9, epsilon 0.1, max_steps 100
# --------------------------------------------------------------------------------------------

class Bandit:
    """One state that never ends: action a pays ``rewards[a]`` and leads back to the state, so an
    episode runs until max_steps cuts it.  Counts the steps and how often each action was taken."""

    def __init__(self, rewards):
        self.rewards = list(rewards)
        self.n_states, self.n_actions = 1, len(self.rewards)
        self.steps, self.resets, self.taken = 0, 0, [0] * len(self.rewards)

    def reset(self):
        self.resets += 1
        return 0

    def step(self, s, a):
        self.steps += 1
        self.taken[int(a)] += 1
        return 0, self.rewards[int(a)], False


@probe
def train_with_defaults(sub, rewards, episodes, seed):
    """``train_q_learning`` on a Bandit with alpha, gamma, epsilon and max_steps left at their defaults."""
    env = Bandit(rewards)
    Q = sub.train_q_learning(env.step, env.reset, env.n_states, env.n_actions, episodes,
                             generator=torch.Generator().manual_seed(seed))
    return {"Q": Q, "steps": env.steps, "resets": env.resets, "taken": env.taken}


@check("train_q_learning's defaults: alpha = 0.5, gamma = 0.9, max_steps = 100 and epsilon = 0.1")
def training_defaults(run):
    got = run(train_with_defaults, [1.0], 3, 0)
    expect_equal(got["steps"], 300, "an episode is cut off after max_steps = 100 steps by default",
                 what="steps over 3 episodes of an environment that never ends")
    q = 0.0
    for _ in range(300):                                    # one action, reward 1, bootstrapping from itself
        q += 0.5 * (1.0 + 0.9 * q - q)
    expect_close(got["Q"], torch.tensor([[q]], dtype=torch.float64),
                 "Q[s, a] += alpha * (r + gamma * max Q[s'] - Q[s, a]) with alpha = 0.5 and gamma = 0.9 by default",
                 rtol=1e-6, what="Q after 300 steps with reward 1 (defaults)")
    got = run(train_with_defaults, [1.0, 0.0], 200, 1)
    # action 0 is greedy after its first reward; epsilon = 0.1 explores uniformly: action 1 w.p. 0.05
    expect_rate(got["taken"][1], got["steps"], 0.05, "with probability epsilon = 0.1 (the default) the action is "
                "drawn uniformly from both actions", what="share of the worse action over 20000 steps:")
