"""Library twins of llm/ppo_objective: the reference and the grader's own oracles agree with the
formulas of TRL's PPOTrainer on random padded batches.

TRL is not a dependency (and is not installed), so its formulas are re-typed here, in our own
code, from these files of huggingface/trl (read through the project's code search):

* ``trl/trainer/ppo_trainer.py`` at commit 00667e8c8f2fd5f4d067ea36528ebe0d8555a014 (the classic
  PPOTrainer): ``compute_rewards`` (``kl = logprob - ref_logprob``, ``-kl_ctl.value * kl``, the
  score added at ``mask.nonzero()[-1]``) and ``loss`` (``values * mask`` and ``rewards * mask``,
  the backward ``lastgaelam`` loop, ``returns = advantages + values``, and
  ``masked_mean(max(-A * ratio, -A * clamp(ratio, 1 - cliprange, 1 + cliprange)), mask)``).
* ``trl/trainer/ppo_trainer.py`` at commit be8a08742d7fb9191a48b7cb5f26c5a3e93130e8
  (``PPOTrainer.train``): the same GAE loop, run over all positions after padded values and
  rewards are zeroed, and the same ``pg_losses`` / ``pg_losses2`` / ``torch.max`` policy loss.
* ``trl/core.py``: ``masked_mean(values, mask) = (values * mask).sum() / mask.sum()``.

Where our contract and TRL differ on purpose, the comparison is restricted accordingly:
TRL whitens the advantages before the loss (``masked_whiten``) -- the exercise leaves that out,
so the loss twin takes advantages as given; the classic ``compute_rewards`` leaves the KL
penalty on padded positions (its callers multiply by the mask later) -- our contract zeroes
them, so rewards are compared at valid positions and ours must be 0 elsewhere; TRL multiplies
by the mask, so it needs finite padding -- the twins get finite padding.  (The newer
``train`` loop adds the score one position *after* the last response token, at
``sequence_lengths + 1``; our contract follows the classic ``compute_rewards`` and the RLHF
objective: the score lands on the last valid token.)
"""
from pathlib import Path

import pytest
import torch

from mlkata.engine import load_module

ROOT = Path(__file__).resolve().parent.parent
REF = load_module(str(ROOT / "solutions" / "llm" / "ppo_objective.py"), "_twin_ref_ppo_objective")
GRADER = load_module(str(ROOT / "graders" / "llm" / "ppo_objective.py"), "_twin_grader_ppo_objective")


# ---- TRL's formulas, re-typed ----------------------------------------------------------------

def trl_masked_mean(values, mask):
    return (values * mask).sum() / mask.sum()


def trl_policy_loss(old_logprobs, logprobs, advantages, mask, cliprange):
    ratio = torch.exp(logprobs - old_logprobs)
    pg_losses = -advantages * ratio
    pg_losses2 = -advantages * torch.clamp(ratio, 1.0 - cliprange, 1.0 + cliprange)
    return trl_masked_mean(torch.max(pg_losses, pg_losses2), mask)


def trl_compute_rewards(scores, logprobs, ref_logprobs, masks, kl_coef):
    rewards = []
    for score, logprob, ref_logprob, mask in zip(scores, logprobs, ref_logprobs, masks):
        kl = logprob - ref_logprob
        reward = (-kl_coef * kl).clone()
        last_non_masked_index = mask.nonzero()[-1]
        reward[last_non_masked_index] += score
        rewards.append(reward)
    return torch.stack(rewards)


def trl_gae(values, rewards, mask, gamma, lam):
    values = values * mask
    rewards = rewards * mask
    lastgaelam = 0
    advantages_reversed = []
    gen_len = rewards.shape[-1]
    for t in reversed(range(gen_len)):
        nextvalues = values[:, t + 1] if t < gen_len - 1 else 0.0
        delta = rewards[:, t] + gamma * nextvalues - values[:, t]
        lastgaelam = delta + gamma * lam * lastgaelam
        advantages_reversed.append(lastgaelam)
    advantages = torch.stack(advantages_reversed[::-1]).transpose(0, 1)
    returns = advantages + values
    return advantages, returns


# ---- random padded batches -------------------------------------------------------------------

def batch(seed, B=6, T=9):
    g = torch.Generator().manual_seed(seed)
    lengths = torch.randint(1, T + 1, (B,), generator=g)
    lengths[0], lengths[1] = 1, T
    mask = torch.arange(T)[None, :] < lengths[:, None]
    r = lambda *shape: torch.randn(*shape, generator=g, dtype=torch.float64)  # noqa: E731
    logprobs = -3 * torch.rand(B, T, generator=g, dtype=torch.float64)
    return dict(mask=mask, logprobs=logprobs, old=logprobs + 0.4 * r(B, T), ref=logprobs + 0.3 * r(B, T),
                adv=r(B, T), scores=2 * r(B), rewards=r(B, T), values=r(B, T))


SEEDS = range(10)


@pytest.mark.parametrize("seed", SEEDS)
def test_clip_loss_and_gradient_match_trl(seed):
    d = batch(seed)
    eps = (0.1, 0.2, 0.3)[seed % 3]
    lp_ref = d["logprobs"].clone().requires_grad_(True)
    lp_trl = d["logprobs"].clone().requires_grad_(True)
    ours = REF.ppo_clip_loss(lp_ref, d["old"], d["adv"], eps, d["mask"])
    trl = trl_policy_loss(d["old"], lp_trl, d["adv"], d["mask"], eps)
    oracle, oracle_grad = GRADER.oracle_clip_loss(d["logprobs"], d["old"], d["adv"], eps, d["mask"])
    torch.testing.assert_close(ours, trl, rtol=1e-12, atol=1e-12)
    assert abs(oracle - trl.item()) < 1e-12
    ours.backward()
    trl.backward()
    torch.testing.assert_close(lp_ref.grad, lp_trl.grad, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(oracle_grad, lp_trl.grad, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_clip_loss_without_mask_matches_trl_with_all_true(seed):
    d = batch(seed)
    ours = REF.ppo_clip_loss(d["logprobs"], d["old"], d["adv"])
    trl = trl_policy_loss(d["old"], d["logprobs"], d["adv"], torch.ones_like(d["mask"]), 0.2)
    torch.testing.assert_close(ours, trl, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_kl_rewards_match_trl_compute_rewards(seed):
    d = batch(seed)
    beta = (0.05, 0.1, 0.5)[seed % 3]
    ours = REF.kl_penalized_rewards(d["scores"], d["logprobs"], d["ref"], beta, d["mask"])
    trl = trl_compute_rewards(d["scores"], d["logprobs"], d["ref"], d["mask"].long(), beta)
    oracle = GRADER.oracle_kl_rewards(d["scores"], d["logprobs"], d["ref"], beta, d["mask"])
    mask = d["mask"]
    torch.testing.assert_close(ours[mask], trl[mask], rtol=1e-12, atol=1e-12)
    assert (ours[~mask] == 0).all()
    torch.testing.assert_close(oracle, ours, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_gae_matches_trl(seed):
    d = batch(seed)
    gamma, lam = [(0.99, 0.95), (1.0, 1.0), (0.9, 0.0), (0.5, 0.8)][seed % 4]
    ours_adv, ours_ret = REF.gae_advantages(d["rewards"], d["values"], gamma, lam, d["mask"])
    trl_adv, trl_ret = trl_gae(d["values"], d["rewards"], d["mask"], gamma, lam)
    oracle_adv, oracle_ret = GRADER.oracle_gae(d["rewards"], d["values"], gamma, lam, d["mask"])
    for ours, trl, oracle in ((ours_adv, trl_adv, oracle_adv), (ours_ret, trl_ret, oracle_ret)):
        torch.testing.assert_close(ours, trl, rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(oracle, trl, rtol=1e-12, atol=1e-12)


def test_pipeline_matches_trl_end_to_end():
    """rewards -> GAE -> loss, as one PPOTrainer step computes them (without whitening)."""
    d = batch(99, B=8, T=12)
    mask = d["mask"]
    rewards = REF.kl_penalized_rewards(d["scores"], d["logprobs"], d["ref"], 0.1, mask)
    adv, _ = REF.gae_advantages(rewards, d["values"], 0.99, 0.95, mask)
    ours = REF.ppo_clip_loss(d["old"], d["logprobs"], adv, 0.2, mask)
    trl_rewards = trl_compute_rewards(d["scores"], d["logprobs"], d["ref"], mask.long(), 0.1)
    trl_adv, _ = trl_gae(d["values"], trl_rewards, mask, 0.99, 0.95)
    trl = trl_policy_loss(d["logprobs"], d["old"], trl_adv, mask, 0.2)
    torch.testing.assert_close(ours, trl, rtol=1e-12, atol=1e-12)
