"""Library twins of fundamentals/gumbel_softmax.  ``torch.distributions.RelaxedOneHotCategorical``
draws its uniforms with ``torch.rand`` from the global RNG and turns them into Gumbel noise the same
way (clamping U to [eps, 1 - eps] where the contract adds 1e-20): seeded alike, its ``rsample`` is
the reference's soft sample.  ``torch.nn.functional.gumbel_softmax`` draws its noise differently
(``exponential_``), so it is compared in distribution: its hard samples and the reference's
Gumbel-max samples follow softmax(logits), and its straight-through gradient has the same form."""
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from mlkata.checks import rate_bounds
from mlkata.engine import load_module

ROOT = Path(__file__).resolve().parent.parent
REF = load_module(str(ROOT / "solutions" / "fundamentals" / "gumbel_softmax.py"), "_twin_ref_gumbel_softmax")
GRADER = load_module(str(ROOT / "graders" / "fundamentals" / "gumbel_softmax.py"), "_twin_grader_gumbel_softmax")


@pytest.mark.parametrize("tau", [0.3, 1.0, 4.0])
@pytest.mark.parametrize("seed", range(3))
def test_soft_sample_matches_relaxed_one_hot_categorical(tau, seed):
    logits = GRADER.logits_batch(seed, (6, 5), dtype=torch.float64)
    torch.manual_seed(seed)
    want = torch.distributions.RelaxedOneHotCategorical(torch.tensor(tau, dtype=torch.float64), logits=logits).rsample()
    got = REF.gumbel_softmax(logits, tau, False, torch.Generator().manual_seed(seed))
    torch.testing.assert_close(got, want, rtol=1e-9, atol=1e-12)
    torch.testing.assert_close(GRADER.V.soft_oracle_dtype(logits, tau, seed), want, rtol=1e-9, atol=1e-12)


def test_hard_samples_follow_softmax_like_torch():
    n = 20_000
    logits = torch.tensor([0.5, -1.0, 1.5, 0.0])
    probs = torch.softmax(logits.double(), 0)
    torch.manual_seed(0)
    theirs = F.gumbel_softmax(logits.expand(n, -1), tau=0.5, hard=True).argmax(-1)
    ours = REF.gumbel_softmax(logits.expand(n, -1), 0.5, True, torch.Generator().manual_seed(1)).argmax(-1)
    gmax = REF.gumbel_max_sample(logits.expand(n, -1), torch.Generator().manual_seed(2))
    for k in range(4):
        lo, hi = rate_bounds(n, float(probs[k]))
        for samples in (theirs, ours, gmax):
            assert lo <= float((samples == k).double().mean()) <= hi


def test_straight_through_gradient_has_torchs_form():
    """F.gumbel_softmax(hard=True) returns y_hard - y_soft.detach() + y_soft, like the reference: the
    gradient of the hard sample is the gradient of its soft sample."""
    logits = GRADER.logits_batch(5, (3, 4), dtype=torch.float64).requires_grad_(True)
    w = torch.randn(3, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(6))
    torch.manual_seed(7)
    y_hard = F.gumbel_softmax(logits, tau=0.8, hard=True)
    torch.manual_seed(7)
    y_soft = F.gumbel_softmax(logits, tau=0.8, hard=False)
    g_hard = torch.autograd.grad((y_hard * w).sum(), logits)[0]
    g_soft = torch.autograd.grad((y_soft * w).sum(), logits)[0]
    torch.testing.assert_close(g_hard, g_soft)
    ours = REF.gumbel_softmax(logits, 0.8, True, torch.Generator().manual_seed(8))
    ours_soft = REF.gumbel_softmax(logits, 0.8, False, torch.Generator().manual_seed(8))
    torch.testing.assert_close(torch.autograd.grad((ours * w).sum(), logits)[0],
                               torch.autograd.grad((ours_soft * w).sum(), logits)[0])
