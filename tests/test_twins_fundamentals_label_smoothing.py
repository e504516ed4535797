"""Library twin of fundamentals/label_smoothing: the reference equals
``torch.nn.functional.cross_entropy(..., label_smoothing=eps)`` -- values and gradients -- over
smoothing levels, class weights, ignore_index and every reduction, and its smoothed targets give
torch's soft-target cross-entropy.  (The grader's oracle is torch's function itself.)"""
import pytest
import torch
import torch.nn.functional as F

from mlkata.engine import load_module
from helpers import ROOT


@pytest.fixture(scope="module")
def ref():
    return load_module(str(ROOT / "solutions" / "fundamentals" / "label_smoothing.py"),
                       "twin_solution_fundamentals_label_smoothing")


@pytest.mark.parametrize("eps", [0.0, 0.1, 0.35, 1.0])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_agrees_with_torch_cross_entropy(ref, eps, weighted, reduction):
    g = torch.Generator().manual_seed(int(eps * 100) + weighted)
    logits = torch.randn(20, 9, generator=g, dtype=torch.float64) * 3
    target = torch.randint(9, (20,), generator=g)
    target[torch.rand(20, generator=g) < 0.2] = -100
    weight = torch.rand(9, generator=g, dtype=torch.float64) + 0.2 if weighted else None
    a, b = logits.clone().requires_grad_(True), logits.clone().requires_grad_(True)
    want = F.cross_entropy(a, target, weight=weight, reduction=reduction, label_smoothing=eps)
    got = ref.label_smoothing_cross_entropy(b, target, smoothing=eps, weight=weight, reduction=reduction)
    torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)
    want.sum().backward()
    got.sum().backward()
    torch.testing.assert_close(b.grad, a.grad, rtol=1e-10, atol=1e-12)


def test_smoothed_targets_give_torchs_soft_target_cross_entropy(ref):
    g = torch.Generator().manual_seed(7)
    logits = torch.randn(15, 6, generator=g)
    target = torch.randint(6, (15,), generator=g)
    q = ref.smoothed_targets(target, 6, 0.2)
    torch.testing.assert_close(F.cross_entropy(logits, q), F.cross_entropy(logits, target, label_smoothing=0.2))
