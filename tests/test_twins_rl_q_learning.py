"""Library twins of rl/q_learning: the checks' GridWorld is Gymnasium's FrozenLake-v1 with
``is_slippery=False`` (same transition table for every state and action, same start, the same
rewards and terminal flags), the grader's Q* is value iteration on Gymnasium's own table, and
the reference's trained greedy policy solves the Gymnasium environment itself.

Gymnasium is not a dependency of mlkata: install it with ``.venv/bin/pip install gymnasium``
(these tests were run with gymnasium 1.4.0); they are skipped without it.
"""
from pathlib import Path

import pytest
import torch

from mlkata.engine import load_module

gym = pytest.importorskip("gymnasium")

ROOT = Path(__file__).resolve().parent.parent
REF = load_module(str(ROOT / "solutions" / "rl" / "q_learning.py"), "_twin_ref_q_learning")
VIS = load_module(str(ROOT / "catalog" / "rl" / "q_learning" / "visible.py"), "_twin_vis_q_learning")
GRADER = load_module(str(ROOT / "graders" / "rl" / "q_learning.py"), "_twin_grader_q_learning")


def frozen_lake():
    return gym.make("FrozenLake-v1", map_name="4x4", is_slippery=False)


def test_map_and_start_are_gymnasiums():
    env = frozen_lake()
    desc = tuple("".join(c.decode() for c in row) for row in env.unwrapped.desc)
    assert desc == VIS.FROZEN_LAKE_4x4
    s, _ = env.reset(seed=0)
    assert s == VIS.GridWorld().start == 0
    assert env.observation_space.n == VIS.GridWorld().n_states and env.action_space.n == VIS.GridWorld().n_actions


def test_every_transition_equals_gymnasiums_table():
    P = frozen_lake().unwrapped.P
    grid = VIS.GridWorld()
    for s in range(16):
        for a in range(4):
            ((prob, s2, r, done),) = P[s][a]       # deterministic: exactly one outcome
            assert prob == 1.0
            assert grid.transition(s, a) == (s2, float(r), bool(done)), (s, a)


def test_every_transition_equals_gymnasiums_step():
    """Gymnasium's step (not only its table) from every non-terminal state agrees."""
    grid = VIS.GridWorld()
    env = frozen_lake()
    for s in range(16):
        if grid.cell(s) in "HG":
            continue
        for a in range(4):
            env.reset(seed=0)
            env.unwrapped.s = s
            s2, r, terminated, truncated, _ = env.step(a)
            assert grid.transition(s, a) == (int(s2), float(r), bool(terminated)), (s, a)


def test_grader_q_star_is_value_iteration_on_gymnasiums_table():
    P = frozen_lake().unwrapped.P
    Q = torch.zeros(16, 4, dtype=torch.float64)
    for _ in range(200):
        V = Q.max(dim=1).values
        Q = torch.tensor([[sum(p * (r + (0.0 if d else 0.9 * float(V[s2]))) for p, s2, r, d in P[s][a])
                           for a in range(4)] for s in range(16)], dtype=torch.float64)
    torch.testing.assert_close(GRADER.q_star(VIS.GridWorld(), 0.9), Q, rtol=0, atol=1e-12)
    assert abs(float(Q[0].max()) - 0.9 ** 5) < 1e-12     # six steps from S to G


@pytest.mark.parametrize("seed", [0, 21, 7])
def test_reference_policy_solves_gymnasium_frozen_lake(seed):
    grid = VIS.GridWorld()
    Q = REF.train_q_learning(grid.step, grid.reset, 16, 4, 1000, alpha=0.5, gamma=0.9, epsilon=0.5,
                             generator=torch.Generator().manual_seed(seed))
    env = frozen_lake()
    s, _ = env.reset(seed=seed)
    total, steps = 0.0, 0
    for steps in range(1, 21):
        s, r, terminated, truncated, _ = env.step(int(Q[s].argmax()))
        total += r
        if terminated or truncated:
            break
    assert terminated and total == 1.0 and steps == 6


def test_reference_trains_on_gymnasium_itself():
    """The learner's train function driven by Gymnasium (a step(s, a) adapter over the real env)."""
    env = frozen_lake()

    def reset():
        return int(env.reset(seed=0)[0])

    def step(s, a):
        assert int(env.unwrapped.s) == s
        s2, r, terminated, truncated, _ = env.step(a)
        return int(s2), float(r), bool(terminated)

    Q = REF.train_q_learning(step, reset, 16, 4, 1000, alpha=0.5, gamma=0.9, epsilon=0.5,
                             generator=torch.Generator().manual_seed(1))
    path, reward = VIS.greedy_path(VIS.GridWorld(), Q)
    assert reward == 1.0 and len(path) == 7
