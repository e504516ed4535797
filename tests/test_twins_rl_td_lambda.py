"""Library twins of rl/td_lambda.

* ``rlax.lambda_returns`` (google-deepmind/rlax, ``rlax/_src/multistep.py``): JAX, not installed,
  so its recursion is re-typed here in our own code -- ``g = v_t[-1]``; backwards,
  ``g = r_t[i] + discount_t[i] * ((1 - lambda) * v_t[i] + lambda * g)`` where ``v_t[i]`` is the
  value of the state *after* step i and ``discount_t`` carries the episode ends.  With
  ``discount_t = gamma * (1 - done)`` and ``v_t = values[1:] ++ [bootstrap]`` it must equal both the
  reference's ``lambda_returns`` and the grader's loop oracle.
* GAE's returns (``advantages + values``) are lambda-returns: the project's own
  ``llm/ppo_objective`` reference (TRL's formulas) agrees on full-length rows.
* ``rlax.discounted_returns`` is ``lambda_returns`` at lambda = 1: so is the reference.
"""
from pathlib import Path

import pytest
import torch

from mlkata.engine import load_module

ROOT = Path(__file__).resolve().parent.parent
REF = load_module(str(ROOT / "solutions" / "rl" / "td_lambda.py"), "_twin_ref_td_lambda")
GRADER = load_module(str(ROOT / "graders" / "rl" / "td_lambda.py"), "_twin_grader_td_lambda")


def rlax_lambda_returns(r_t, discount_t, v_t, lambda_):
    """rlax.lambda_returns, re-typed for one 1-D trajectory (float64)."""
    g = v_t[-1]
    out = []
    for i in range(v_t.shape[0] - 1, -1, -1):
        g = r_t[i] + discount_t[i] * ((1 - lambda_) * v_t[i] + lambda_ * g)
        out.insert(0, g)
    return torch.stack(out)


@pytest.mark.parametrize("seed", range(12))
def test_lambda_returns_equal_rlax(seed):
    g = torch.Generator().manual_seed(seed)
    T = 1 + 4 * seed
    rewards = torch.randn(T, generator=g, dtype=torch.float64)
    values = torch.randn(T, generator=g, dtype=torch.float64)
    dones = torch.rand(T, generator=g) < 0.2
    gamma, lam = [0.9, 1.0, 0.5][seed % 3], [0.0, 0.95, 1.0, 0.4][seed % 4]
    boot = float(torch.randn((), generator=g))
    want = rlax_lambda_returns(rewards, gamma * (~dones).double(), torch.cat([values[1:], torch.tensor([boot],
                               dtype=torch.float64)]), lam)
    torch.testing.assert_close(REF.lambda_returns(rewards, values, dones, gamma, lam, boot), want,
                               rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(GRADER.oracle_lambda_returns(rewards, values, dones, gamma, lam, boot), want,
                               rtol=1e-12, atol=1e-12)
    # lambda = 1 is rlax.discounted_returns with the bootstrap value
    torch.testing.assert_close(REF.lambda_returns(rewards, values, dones, gamma, 1.0, boot),
                               rlax_lambda_returns(rewards, gamma * (~dones).double(),
                                                   torch.full((T,), boot, dtype=torch.float64), 1.0))


@pytest.mark.parametrize("seed", range(4))
def test_gae_returns_are_lambda_returns(seed):
    path = ROOT / "solutions" / "llm" / "ppo_objective.py"
    if not path.exists():
        pytest.skip("llm/ppo_objective is not built")
    ppo = load_module(str(path), "_twin_ppo_objective_for_td_lambda")
    g = torch.Generator().manual_seed(seed)
    B, T = 3, 7
    rewards = torch.randn(B, T, generator=g, dtype=torch.float64)
    values = torch.randn(B, T, generator=g, dtype=torch.float64)
    mask = torch.ones(B, T, dtype=torch.bool)
    _, returns = ppo.gae_advantages(rewards, values, 0.97, 0.9, mask)
    dones = torch.zeros(B, T, dtype=torch.bool)
    dones[:, -1] = True                                  # GAE there: V = 0 after the last token
    torch.testing.assert_close(REF.lambda_returns(rewards, values, dones, 0.97, 0.9), returns, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("seed", range(6))
def test_offline_backward_view_equals_forward_view_in_the_reference(seed):
    """Sutton & Barto's offline equivalence, on the reference itself, for lambda in {0, 1, ...}."""
    V0, states, rewards, _ = GRADER.random_episode(200 + seed)
    lam = [0.0, 1.0, 0.3][seed % 3]
    terminal = seed % 2 == 0
    got = REF.td_lambda_episode(V0, states, rewards, 0.9, lam, 0.1, terminal=terminal, online=False)
    torch.testing.assert_close(got, GRADER.oracle_forward_view(V0, states, rewards, 0.9, lam, 0.1, terminal),
                               rtol=1e-12, atol=1e-12)
