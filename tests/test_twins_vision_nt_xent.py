"""Library twin of vision/nt_xent: the reference and the grader's oracle agree with
``pytorch_metric_learning.losses.NTXentLoss(temperature)`` on the stacked views with labels
``[0..N-1, 0..N-1]`` -- values and gradients -- and with cross-entropy on the masked logits."""
import pytest
import torch
import torch.nn.functional as F

from mlkata.engine import load_module
from helpers import ROOT

pml_losses = pytest.importorskip("pytorch_metric_learning.losses")


@pytest.fixture(scope="module")
def ref():
    return load_module(str(ROOT / "solutions" / "vision" / "nt_xent.py"), "twin_solution_vision_nt_xent")


@pytest.fixture(scope="module")
def oracle():
    return load_module(str(ROOT / "graders" / "vision" / "nt_xent.py"), "twin_grader_vision_nt_xent")


@pytest.mark.parametrize("seed,N,tau", [(0, 2, 0.5), (1, 8, 0.1), (2, 32, 0.07), (3, 5, 1.0), (4, 16, 0.5)])
def test_agrees_with_pytorch_metric_learning(ref, oracle, seed, N, tau):
    z1, z2 = oracle.views(seed, N=N, dtype=torch.float64)
    a1, a2 = z1.clone().requires_grad_(True), z2.clone().requires_grad_(True)
    want = pml_losses.NTXentLoss(temperature=tau)(torch.cat([a1, a2]), torch.arange(N).repeat(2))
    want.backward()
    b1, b2 = z1.clone().requires_grad_(True), z2.clone().requires_grad_(True)
    got = ref.nt_xent_loss(b1, b2, tau)
    got.backward()
    torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(b1.grad, a1.grad, rtol=1e-8, atol=1e-12)
    torch.testing.assert_close(b2.grad, a2.grad, rtol=1e-8, atol=1e-12)
    torch.testing.assert_close(oracle.oracle_loss(z1, z2, tau), want.detach(), rtol=1e-10, atol=1e-12)
    logits, targets = ref.nt_xent_logits(z1, z2, tau)
    torch.testing.assert_close(F.cross_entropy(logits, targets), want.detach(), rtol=1e-10, atol=1e-12)
