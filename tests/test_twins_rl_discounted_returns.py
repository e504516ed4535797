"""Library twins of rl/discounted_returns: the reference and the grader's own oracle agree with
the rllab / OpenAI Spinning Up ``discount_cumsum`` idiom (``spinup/algos/pytorch/vpg/core.py``:
``scipy.signal.lfilter([1], [1, -discount], x[::-1], axis=0)[::-1]``), applied episode by episode
with the bootstrap value appended to the last, open episode (as Spinning Up's ``finish_path``
does with ``last_val``); and normalisation agrees with numpy's ``(x - mean) / (std(ddof=1) + eps)``.
"""
from pathlib import Path

import numpy as np
import pytest
import torch

from mlkata.engine import load_module

signal = pytest.importorskip("scipy.signal")

ROOT = Path(__file__).resolve().parent.parent
REF = load_module(str(ROOT / "solutions" / "rl" / "discounted_returns.py"), "_twin_ref_discounted_returns")
GRADER = load_module(str(ROOT / "graders" / "rl" / "discounted_returns.py"), "_twin_grader_discounted_returns")


def discount_cumsum(x, discount):
    """rllab / Spinning Up: y[t] = x[t] + discount * y[t+1], as a linear filter run backwards."""
    return signal.lfilter([1], [1, float(-discount)], x[::-1], axis=0)[::-1]


def spinup_returns(rewards: np.ndarray, dones: np.ndarray, gamma: float, last_val: float) -> np.ndarray:
    """One stream: cut it into episodes at the done flags; an open last episode gets last_val appended."""
    out = np.zeros_like(rewards)
    start = 0
    T = len(rewards)
    for t in range(T):
        if dones[t] or t == T - 1:
            seg = rewards[start:t + 1]
            if not dones[t]:
                seg = np.append(seg, last_val)
                out[start:t + 1] = discount_cumsum(seg, gamma)[:-1]
            else:
                out[start:t + 1] = discount_cumsum(seg, gamma)
            start = t + 1
    return out


@pytest.mark.parametrize("seed", range(12))
def test_returns_agree_with_spinup_discount_cumsum(seed):
    g = torch.Generator().manual_seed(seed)
    B, T = 3, 1 + 9 * seed
    rewards = torch.randn(B, T, generator=g, dtype=torch.float64)
    dones = torch.rand(B, T, generator=g) < 0.15
    gamma = [0.0, 0.5, 0.99, 1.0][seed % 4]
    boot = torch.randn(B, generator=g, dtype=torch.float64)
    want = np.stack([spinup_returns(rewards[i].numpy(), dones[i].numpy(), gamma, float(boot[i])) for i in range(B)])
    got_ref = REF.discounted_returns(rewards, dones, gamma, boot)
    got_oracle = GRADER.oracle_returns(rewards, dones, gamma, boot)
    np.testing.assert_allclose(got_ref.numpy(), want, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(got_oracle.numpy(), want, rtol=1e-10, atol=1e-10)
    # a flat stream is row 0 on its own
    np.testing.assert_allclose(REF.discounted_returns(rewards[0], dones[0], gamma, boot[0]).numpy(), want[0],
                               rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("seed", range(6))
def test_normalisation_agrees_with_numpy(seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(3.0, 5.0, size=(4, 1 + seed))
    want = (x - x.mean()) / (x.std(ddof=1) + 1e-8)
    np.testing.assert_allclose(REF.normalize_returns(torch.from_numpy(x)).numpy(), want, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(GRADER.oracle_normalize(torch.from_numpy(x)).numpy(), want, rtol=1e-10, atol=1e-12)
