"""Visible checks: one exact update, the terminal rule, greedy choice, and a training run that
solves the 4x4 FrozenLake (deterministic).  The environments are defined here."""
import torch

from mlkata.checks import Fail, check, expect, expect_close, expect_equal, probe

FROZEN_LAKE_4x4 = ("SFFF",
                   "FHFH",
                   "FFFH",
                   "HFFG")
LEFT, DOWN, RIGHT, UP = 0, 1, 2, 3          # Gymnasium's FrozenLake action numbering


class GridWorld:
    """FrozenLake with ``is_slippery=False``: a deterministic transition table.

    States are ``row * ncol + col``; S is the start, F frozen, H a hole (terminal, reward 0),
    G the goal (terminal, reward 1).  A move into the border leaves the agent where it is.
    Stepping from a terminal state keeps it there with reward 0 and done (as Gymnasium's table).
    The counters record how the learner drives the environment.
    """

    def __init__(self, desc=FROZEN_LAKE_4x4):
        self.desc = tuple(desc)
        self.nrow, self.ncol = len(self.desc), len(self.desc[0])
        self.n_states, self.n_actions = self.nrow * self.ncol, 4
        self.start = next(r * self.ncol + c for r, row in enumerate(self.desc) for c, x in enumerate(row) if x == "S")
        self.resets = self.steps = self.steps_after_done = self.longest = 0
        self._episode_steps, self._done = 0, False

    def cell(self, s: int) -> str:
        return self.desc[s // self.ncol][s % self.ncol]

    def transition(self, s: int, a: int):
        """(s_next, reward, done) of the table, without touching the counters."""
        if self.cell(s) in "HG":
            return s, 0.0, True
        r, c = divmod(s, self.ncol)
        if a == LEFT:
            c = max(c - 1, 0)
        elif a == DOWN:
            r = min(r + 1, self.nrow - 1)
        elif a == RIGHT:
            c = min(c + 1, self.ncol - 1)
        elif a == UP:
            r = max(r - 1, 0)
        else:
            raise ValueError(f"action {a!r} is not one of 0, 1, 2, 3")
        s_next = r * self.ncol + c
        return s_next, float(self.cell(s_next) == "G"), self.cell(s_next) in "HG"

    def reset(self) -> int:
        self.resets += 1
        self._episode_steps, self._done = 0, False
        return self.start

    def step(self, s, a):
        self.steps += 1
        self.steps_after_done += self._done
        self._episode_steps += 1
        self.longest = max(self.longest, self._episode_steps)
        s_next, reward, done = self.transition(int(s), int(a))
        self._done = self._done or done
        return s_next, reward, done

    def counters(self) -> dict:
        return {"resets": self.resets, "steps": self.steps, "steps_after_done": self.steps_after_done,
                "longest": self.longest}


class LoopWorld(GridWorld):
    """One state that never ends: action 0 pays 1, action 1 pays 0.5, both stay put.
    Q* = [1, 0.5] + gamma * max Q* = [10, 9.5] for gamma = 0.9 -- if cut-offs are not treated as terminal."""

    def __init__(self):
        super().__init__(("S",))
        self.n_actions = 2

    def transition(self, s, a):
        return 0, (1.0, 0.5)[int(a)], False


@probe
def update(sub, Q, s, a, r, s_next, done, alpha, gamma):
    """Run one q_update; report the returned TD error and Q afterwards (in place)."""
    td = sub.q_update(Q, s, a, r, s_next, done, alpha, gamma)
    return {"td": td, "Q": Q}


@probe
def actions(sub, q_values, epsilon, seed, n):
    """n epsilon-greedy actions drawn with one generator seeded with ``seed``."""
    g = torch.Generator().manual_seed(seed)
    return [sub.epsilon_greedy(q_values, epsilon, g) for _ in range(n)]


@probe
def train(sub, env, episodes, alpha, gamma, epsilon, max_steps, seed):
    """Train on ``env``; report Q and how the environment was driven."""
    g = torch.Generator().manual_seed(seed)
    Q = sub.train_q_learning(env.step, env.reset, env.n_states, env.n_actions, episodes, alpha=alpha,
                             gamma=gamma, epsilon=epsilon, max_steps=max_steps, generator=g)
    return {"Q": Q, **env.counters()}


def greedy_path(env: GridWorld, Q: torch.Tensor, limit: int = 20):
    """States visited by the greedy policy (lowest-index argmax) from the start, and the last reward."""
    s, path, reward = env.start, [env.start], 0.0
    for _ in range(limit):
        s, reward, done = env.transition(s, int(Q[s].argmax()))
        path.append(s)
        if done:
            break
    return path, reward


@check("q_update moves Q[s, a] by alpha * TD error and returns the TD error")
def one_update(run):
    Q = torch.tensor([[0.0, 1.0], [2.0, 4.0]])
    got = run(update, Q, 0, 1, 0.5, 1, False, 0.5, 0.9)
    td = 0.5 + 0.9 * 4.0 - 1.0                          # r + gamma * max Q[s'] - Q[s, a] = 3.1
    expect_close(got["td"], td, "TD error = r + gamma * max_a' Q[s', a'] - Q[s, a]", what="returned TD error")
    expect_close(got["Q"], torch.tensor([[0.0, 1.0 + 0.5 * td], [2.0, 4.0]]),
                 "Q[s, a] += alpha * TD error, in place; nothing else changes", what="Q after the update")


@check("a terminal transition does not bootstrap: the target is r alone")
def terminal_update(run):
    Q = torch.tensor([[0.0, 1.0], [2.0, 4.0]])
    got = run(update, Q, 0, 1, 0.5, 1, True, 0.5, 0.9)
    expect_close(got["td"], 0.5 - 1.0, "when done, TD error = r - Q[s, a] (no gamma * max Q[s'])",
                 what="returned TD error")


@check("with epsilon = 0 the greedy action is always chosen")
def greedy_when_no_exploration(run):
    got = run(actions, torch.tensor([0.1, -0.2, 0.7, 0.3]), 0.0, 0, 50)
    if not all(isinstance(a, int) and not isinstance(a, bool) or isinstance(a, torch.Tensor) and a.numel() == 1
               for a in got):
        raise Fail("epsilon_greedy returns the action as an int", f"your code produced {got[:3]!r}"[:300])
    got = [int(a) for a in got]
    expect(got == [2] * 50, "with epsilon = 0, always pick the action with the largest value",
           f"expected action 2 fifty times, your code produced {got[:12]}{' ...' if len(got) > 12 else ''}")


@check("training on the 4x4 FrozenLake (not slippery) finds a shortest path to the goal", points=2)
def solves_frozen_lake(run):
    env = GridWorld()
    got = run(train, env, 1000, 0.5, 0.9, 0.5, 100, 0)
    Q = got["Q"]
    expect_equal(tuple(Q.shape) if isinstance(Q, torch.Tensor) else Q, (16, 4),
                 "train_q_learning returns a (S, A) tensor", what="shape of Q")
    path, reward = greedy_path(env, Q)
    expect(reward == 1.0 and len(path) == 7, "after training, the greedy policy walks from S to G in 6 steps",
           f"greedy path from the start: {path} (reward {reward})")
