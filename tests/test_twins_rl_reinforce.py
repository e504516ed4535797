"""Twins of rl/reinforce: the grader's hand-written gradient oracle (score-function formula plus
the entropy term) equals autograd through ``torch.distributions.Categorical`` for finite logits,
and the reference's loss equals Stable-Baselines3's A2C policy + entropy terms re-typed from
``stable_baselines3/a2c/a2c.py`` (``policy_loss = -(advantages * log_prob).mean()``,
``entropy_loss = -th.mean(entropy)``, ``loss = policy_loss + ent_coef * entropy_loss``; advantages
normalised as ``(advantages - advantages.mean()) / (advantages.std() + 1e-8)`` when
``normalize_advantage``).  SB3 is not installed; its formulas are re-typed here in our own code.
"""
from pathlib import Path

import pytest
import torch

from mlkata.engine import load_module

ROOT = Path(__file__).resolve().parent.parent
REF = load_module(str(ROOT / "solutions" / "rl" / "reinforce.py"), "_twin_ref_reinforce")
GRADER = load_module(str(ROOT / "graders" / "rl" / "reinforce.py"), "_twin_grader_reinforce")


def sb3_a2c_policy_loss(logits, actions, returns, values, ent_coef, normalize):
    dist = torch.distributions.Categorical(logits=logits)
    log_prob = dist.log_prob(actions)
    advantages = returns - values.detach()
    if normalize:
        advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
    policy_loss = -(advantages * log_prob).mean()
    entropy_loss = -torch.mean(dist.entropy())
    return policy_loss + ent_coef * entropy_loss


@pytest.mark.parametrize("seed", range(8))
def test_reference_equals_sb3_a2c_policy_loss(seed):
    g = torch.Generator().manual_seed(seed)
    N, A = 5 + seed, 2 + seed % 4
    logits = (torch.randn(N, A, generator=g, dtype=torch.float64) * 2).requires_grad_(True)
    actions = torch.randint(A, (N,), generator=g)
    returns = torch.randn(N, generator=g, dtype=torch.float64) * 3
    values = torch.randn(N, generator=g, dtype=torch.float64).requires_grad_(True)
    coef, norm = [0.0, 0.01, 0.5][seed % 3], bool(seed % 2)
    want = sb3_a2c_policy_loss(logits, actions, returns, values, coef, norm)
    (want_grad,) = torch.autograd.grad(want, logits)
    got = REF.reinforce_loss(logits, actions, returns, values, normalize_advantages=norm, entropy_coef=coef)
    (got_grad,) = torch.autograd.grad(got, logits)
    torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(got_grad, want_grad, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(GRADER.oracle_loss(logits.detach(), actions, returns, values.detach(), norm, coef),
                               want.detach(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("seed", range(8))
def test_grader_gradient_oracle_equals_autograd_through_categorical(seed):
    g = torch.Generator().manual_seed(100 + seed)
    lead = (3,) if seed % 2 else (2, 3)
    A = 3 + seed % 3
    logits = (torch.randn(*lead, A, generator=g, dtype=torch.float64) * 3).requires_grad_(True)
    actions = torch.randint(A, lead, generator=g)
    returns = torch.randn(lead, generator=g, dtype=torch.float64)
    baseline = torch.randn(lead, generator=g, dtype=torch.float64)
    coef, norm = [0.0, 0.2, 1.0, 0.05][seed % 4], seed % 3 == 0
    dist = torch.distributions.Categorical(logits=logits)
    adv = GRADER.oracle_advantages(returns, baseline, norm, 1e-8)
    loss = -(dist.log_prob(actions) * adv).mean() - coef * dist.entropy().mean()
    (want,) = torch.autograd.grad(loss, logits)
    torch.testing.assert_close(GRADER.oracle_grad(logits.detach(), actions, returns, baseline, norm, coef), want,
                               rtol=1e-10, atol=1e-12)


def test_bandit_true_gradient_is_the_expectation():
    """The statistical check's grad J = pi * (r - J) is the exact expectation of grad log pi(a) r(a)."""
    theta = GRADER.THETA.clone().requires_grad_(True)
    J = (torch.softmax(theta, 0) * GRADER.MEAN_REWARD).sum()
    (want,) = torch.autograd.grad(J, theta)
    torch.testing.assert_close(GRADER.true_gradient(), want, rtol=1e-12, atol=1e-12)
