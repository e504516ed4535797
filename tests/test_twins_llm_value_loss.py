"""Library twins of llm/value_loss: the reference and the grader's own oracle agree with the value
loss of TRL's PPOTrainer (and CleanRL's PPO) on random padded batches -- loss, clip fraction and
gradient.

TRL is not a dependency (and is not installed), so its formulas are re-typed here, in our own
code, from these files (read through the project's code search):

* huggingface/trl ``trl/trainer/ppo_trainer.py`` at commit
  00667e8c8f2fd5f4d067ea36528ebe0d8555a014, ``PPOTrainer.loss``:
  ``vpredclipped = clip_by_value(vpreds, values - cliprange_value, values + cliprange_value)``,
  ``vf_losses1 = (vpreds - returns) ** 2``, ``vf_losses2 = (vpredclipped - returns) ** 2``,
  ``vf_loss = 0.5 * masked_mean(torch.max(vf_losses1, vf_losses2), mask)``,
  ``vf_clipfrac = masked_mean(torch.gt(vf_losses2, vf_losses1).double(), mask)``.
* the same file at commit be8a08742d7fb9191a48b7cb5f26c5a3e93130e8 (``PPOTrainer.train``): the
  same formulas with ``torch.clamp`` for the clip and ``(vf_losses2 > vf_losses1).float()``.
* ``trl/core.py``: ``clip_by_value(x, lo, hi) = torch.max(torch.min(x, hi), lo)`` and
  ``masked_mean(values, mask) = (values * mask).sum() / mask.sum()``.
* vwxyzjn/cleanrl ``cleanrl/ppo.py``: the unclipped variant ``0.5 * ((newvalue - returns) ** 2).mean()``
  and the clip written as ``values + clamp(newvalue - values, -eps, eps)``.

TRL multiplies by the mask, so it needs finite padding: the twins get finite padding (our contract
additionally ignores inf/NaN padding, which the graders check).
"""
from pathlib import Path

import pytest
import torch

from mlkata.engine import load_module

ROOT = Path(__file__).resolve().parent.parent
REF = load_module(str(ROOT / "solutions" / "llm" / "value_loss.py"), "_twin_ref_value_loss")
GRADER = load_module(str(ROOT / "graders" / "llm" / "value_loss.py"), "_twin_grader_value_loss")


# ---- TRL's and CleanRL's formulas, re-typed ---------------------------------------------------

def trl_masked_mean(values, mask):
    return (values * mask).sum() / mask.sum()


def trl_clip_by_value(x, tensor_min, tensor_max):
    return torch.max(torch.min(x, tensor_max), tensor_min)


def trl_value_loss(vpreds, values, returns, mask, cliprange_value):
    """PPOTrainer.loss (classic): values are the OLD predictions, vpreds the new ones."""
    vpredclipped = trl_clip_by_value(vpreds, values - cliprange_value, values + cliprange_value)
    vf_losses1 = (vpreds - returns) ** 2
    vf_losses2 = (vpredclipped - returns) ** 2
    vf_loss = 0.5 * trl_masked_mean(torch.max(vf_losses1, vf_losses2), mask)
    vf_clipfrac = trl_masked_mean(torch.gt(vf_losses2, vf_losses1).double(), mask)
    return vf_loss, vf_clipfrac


def trl_value_loss_new(vpred, mb_values, mb_return, mask, cliprange_value):
    """PPOTrainer.train (newer): torch.clamp and a float clip fraction."""
    vpredclipped = torch.clamp(vpred, mb_values - cliprange_value, mb_values + cliprange_value)
    vf_losses1 = torch.square(vpred - mb_return)
    vf_losses2 = torch.square(vpredclipped - mb_return)
    vf_loss = 0.5 * trl_masked_mean(torch.max(vf_losses1, vf_losses2), mask)
    vf_clipfrac = trl_masked_mean((vf_losses2 > vf_losses1).float(), mask)
    return vf_loss, vf_clipfrac


def cleanrl_value_loss(newvalue, b_values, b_returns, clip_coef, clip_vloss=True):
    if clip_vloss:
        v_loss_unclipped = (newvalue - b_returns) ** 2
        v_clipped = b_values + torch.clamp(newvalue - b_values, -clip_coef, clip_coef)
        v_loss_clipped = (v_clipped - b_returns) ** 2
        return 0.5 * torch.max(v_loss_unclipped, v_loss_clipped).mean()
    return 0.5 * ((newvalue - b_returns) ** 2).mean()


# ---- random padded batches -------------------------------------------------------------------

def batch(seed, B=6, T=9):
    g = torch.Generator().manual_seed(seed)
    lengths = torch.randint(1, T + 1, (B,), generator=g)
    lengths[0], lengths[1] = 1, T
    mask = torch.arange(T)[None, :] < lengths[:, None]
    old = 2 * torch.randn(B, T, generator=g, dtype=torch.float64)
    vpreds = old + 0.4 * torch.randn(B, T, generator=g, dtype=torch.float64)
    returns = old + torch.randn(B, T, generator=g, dtype=torch.float64)
    return mask, vpreds, old, returns


SEEDS = range(12)


@pytest.mark.parametrize("seed", SEEDS)
def test_clipped_loss_clipfrac_and_gradient_match_trl(seed):
    mask, vpreds, old, returns = batch(seed)
    eps = (0.1, 0.2, 0.5)[seed % 3]
    v_ref = vpreds.clone().requires_grad_(True)
    v_trl = vpreds.clone().requires_grad_(True)
    ours, ours_frac = REF.clipped_value_loss(v_ref, old, returns, eps, mask)
    trl, trl_frac = trl_value_loss(v_trl, old, returns, mask.double(), eps)
    torch.testing.assert_close(ours, trl, rtol=1e-12, atol=1e-12)
    assert abs(ours_frac.item() - trl_frac.item()) < 1e-12
    assert 0.0 < trl_frac.item() < 1.0 or seed % 3 == 2     # the batches do exercise clipping
    ours.backward()
    trl.backward()
    torch.testing.assert_close(v_ref.grad, v_trl.grad, rtol=1e-12, atol=1e-12)
    oracle_loss, oracle_frac, oracle_grad = GRADER.oracle(vpreds, returns, old, eps, mask)
    assert abs(oracle_loss - trl.item()) < 1e-12
    assert abs(oracle_frac - trl_frac.item()) < 1e-12
    torch.testing.assert_close(oracle_grad, v_trl.grad, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_clipped_loss_matches_trl_train_loop_in_float32(seed):
    mask, vpreds, old, returns = (x.float() if x.is_floating_point() else x for x in batch(seed))
    ours, ours_frac = REF.clipped_value_loss(vpreds, old, returns, 0.2, mask)
    trl, trl_frac = trl_value_loss_new(vpreds, old, returns, mask.float(), 0.2)
    torch.testing.assert_close(ours, trl, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(ours_frac, trl_frac, rtol=0, atol=1e-6)


@pytest.mark.parametrize("seed", SEEDS)
def test_unmasked_losses_match_cleanrl(seed):
    _, vpreds, old, returns = batch(seed)
    v, o, r = vpreds.reshape(-1), old.reshape(-1), returns.reshape(-1)
    torch.testing.assert_close(REF.clipped_value_loss(vpreds, old, returns, 0.2)[0],
                               cleanrl_value_loss(v, o, r, 0.2), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(REF.value_loss(vpreds, returns), cleanrl_value_loss(v, o, r, 0.2, clip_vloss=False),
                               rtol=1e-12, atol=1e-12)
    assert abs(GRADER.oracle(vpreds, returns)[0] - cleanrl_value_loss(v, o, r, 0.2, clip_vloss=False).item()) < 1e-12


@pytest.mark.parametrize("seed", SEEDS)
def test_masked_unclipped_loss_matches_trl_masked_mean(seed):
    mask, vpreds, _, returns = batch(seed)
    want = 0.5 * trl_masked_mean((vpreds - returns) ** 2, mask.double())
    torch.testing.assert_close(REF.value_loss(vpreds, returns, mask), want, rtol=1e-12, atol=1e-12)
    assert abs(GRADER.oracle(vpreds, returns, mask=mask)[0] - want.item()) < 1e-12
