"""Library twins of llm/entropy_kl: the reference and the grader's oracles agree with scipy
(``scipy.stats.entropy`` for H(p) and KL(p || q), ``scipy.special.rel_entr`` for the zero
conventions) and with TRL's formulas.

TRL's formulas, re-typed from huggingface/trl ``trl/trainer/ppo_trainer.py`` at commit
be8a08742d7fb9191a48b7cb5f26c5a3e93130e8 (``PPOTrainer.train``, read through the project's code
search): ``logr = ref_logprobs - logprobs``, ``kl = -logr`` for ``kl_estimator == "k1"``, else
``(logr.exp() - 1) - logr`` (k3); and the logged entropy
``torch.logsumexp(logits, dim=-1) - torch.sum(softmax(logits) * logits, dim=-1)``.
(Our k3 uses expm1 for accuracy near r = 1; the values agree to float64 rounding.)
"""
from pathlib import Path

import numpy as np
import pytest
import torch

from mlkata.engine import load_module

scipy_stats = pytest.importorskip("scipy.stats")
scipy_special = pytest.importorskip("scipy.special")

ROOT = Path(__file__).resolve().parent.parent
REF = load_module(str(ROOT / "solutions" / "llm" / "entropy_kl.py"), "_twin_ref_entropy_kl")
GRADER = load_module(str(ROOT / "graders" / "llm" / "entropy_kl.py"), "_twin_grader_entropy_kl")
INF = float("inf")


def trl_k(logprobs, ref_logprobs, kl_estimator):
    logr = ref_logprobs - logprobs
    return -logr if kl_estimator == "k1" else (logr.exp() - 1) - logr


def trl_entropy(logits):
    prob_dist = torch.nn.functional.softmax(logits, dim=-1)
    return torch.logsumexp(logits, dim=-1) - torch.sum(prob_dist * logits, dim=-1)


def logits(seed, shape, masked=0.0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(shape, generator=g, dtype=torch.float64) * 2
    if masked:
        m = torch.rand(shape, generator=g) < masked
        m[..., 0] = False
        x = x.masked_fill(m, -INF)
    return x


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("masked", [0.0, 0.4])
def test_entropy_matches_scipy(seed, masked):
    x = logits(seed, (5, 12), masked)
    p = torch.softmax(x, -1).numpy()
    want = torch.from_numpy(scipy_stats.entropy(p, axis=-1))
    torch.testing.assert_close(REF.entropy(x), want, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(GRADER.oracle_entropy(x), want, rtol=1e-12, atol=1e-12)
    if not masked:
        torch.testing.assert_close(trl_entropy(x), want, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("seed", range(6))
def test_kl_matches_scipy_both_directions_with_shared_and_one_sided_zeros(seed):
    p_logits = logits(seed, (6, 10), 0.3)
    q_logits = logits(100 + seed, (6, 10))
    q_logits = torch.where(torch.isinf(p_logits) & (torch.arange(10) % 2 == 0), -INF, q_logits)
    q_logits[1, 0] = -INF                      # q = 0 < p in row 1: KL(p || q) = inf there
    p, q = torch.softmax(p_logits, -1).numpy(), torch.softmax(q_logits, -1).numpy()
    for a, b, pa, pb in ((p_logits, q_logits, p, q), (q_logits, p_logits, q, p)):
        want = torch.from_numpy(scipy_special.rel_entr(pa, pb).sum(-1))
        assert torch.equal(torch.isinf(REF.kl_divergence(a, b)), torch.isinf(want))
        assert torch.equal(torch.isinf(GRADER.oracle_kl(a, b)), torch.isinf(want))
        finite = torch.isfinite(want)
        torch.testing.assert_close(REF.kl_divergence(a, b)[finite], want[finite], rtol=1e-10, atol=1e-12)
        torch.testing.assert_close(GRADER.oracle_kl(a, b)[finite], want[finite], rtol=1e-10, atol=1e-12)
        # scipy.stats.entropy(pk, qk) is the same KL
        st = torch.from_numpy(np.array([scipy_stats.entropy(pa[i], pb[i]) for i in range(len(pa))]))
        torch.testing.assert_close(st[finite], want[finite], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("seed", range(6))
def test_k1_k3_match_trl_formulas(seed):
    g = torch.Generator().manual_seed(seed)
    logprobs = -3 * torch.rand(50, generator=g, dtype=torch.float64)
    ref_logprobs = logprobs + torch.randn(50, generator=g, dtype=torch.float64)
    for kind in ("k1", "k3"):
        want = trl_k(logprobs, ref_logprobs, kind)
        torch.testing.assert_close(REF.kl_estimator(logprobs, ref_logprobs, kind), want, rtol=1e-10, atol=1e-12)
        torch.testing.assert_close(GRADER.oracle_estimator(logprobs, ref_logprobs, kind), want,
                                   rtol=1e-10, atol=1e-12)


def test_k1_and_k3_sample_means_estimate_scipy_kl():
    p_logits = torch.tensor([2.0, 1.0, 0.0, -1.0, 0.5], dtype=torch.float64)
    q_logits = torch.tensor([1.5, 1.2, 0.3, -0.5, 0.0], dtype=torch.float64)
    logp, logq, exact = GRADER.sample_tokens(0, p_logits, q_logits, 200000)
    want = scipy_stats.entropy(torch.softmax(p_logits, -1).numpy(), torch.softmax(q_logits, -1).numpy())
    assert abs(exact - want) < 1e-12
    for kind in ("k1", "k3"):
        k = REF.kl_estimator(logp, logq, kind)
        assert abs(k.mean().item() - want) < 5 * k.std().item() / len(k) ** 0.5
