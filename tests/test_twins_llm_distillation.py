"""Library twin of llm/distillation: Hinton's loss agrees with torch's own KL and cross-entropy
(``F.kl_div(log_target=True, reduction='batchmean') * T**2`` and ``F.cross_entropy(ignore_index=...)``),
and the generalised JSD with TRL's ``GKDTrainer.generalized_jsd_loss`` (labels given, reduction
'batchmean'), for the reference and the grader's oracles, values and student gradients."""
import os

import pytest
import torch
import torch.nn.functional as F

from mlkata.engine import load_module
from helpers import ROOT

os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
gkd = pytest.importorskip("trl.experimental.gkd")


@pytest.fixture(scope="module")
def ref():
    return load_module(str(ROOT / "solutions" / "llm" / "distillation.py"), "twin_solution_llm_distillation")


@pytest.fixture(scope="module")
def oracle():
    return load_module(str(ROOT / "graders" / "llm" / "distillation.py"), "twin_grader_llm_distillation")


def torch_hinton(s, t, y, temperature, alpha, ignore_index=-100):
    keep = y != ignore_index
    soft = F.kl_div(F.log_softmax(s[keep] / temperature, -1), F.log_softmax(t[keep] / temperature, -1),
                    log_target=True, reduction="batchmean") * temperature ** 2
    hard = F.cross_entropy(s.reshape(-1, s.shape[-1]), y.reshape(-1), ignore_index=ignore_index)
    return alpha * soft + (1 - alpha) * hard


@pytest.mark.parametrize("seed,shape,temperature,alpha", [(0, (8, 5), 2.0, 0.5), (1, (3, 6, 11), 4.0, 0.9),
                                                          (2, (16, 3), 1.0, 0.1), (3, (2, 7, 9), 8.0, 1.0)])
def test_hinton_agrees_with_torch(ref, oracle, seed, shape, temperature, alpha):
    s, t, y = oracle.logits_pair(seed, shape, dtype=torch.float64, p_ignore=0.25 if len(shape) == 3 else 0.0)
    leaf = s.clone().requires_grad_(True)
    want = torch_hinton(leaf, t, y, temperature, alpha)
    (want_grad,) = torch.autograd.grad(want, leaf)
    leaf2 = s.clone().requires_grad_(True)
    got = ref.distillation_loss(leaf2, t, y, temperature=temperature, alpha=alpha)
    (got_grad,) = torch.autograd.grad(got, leaf2)
    torch.testing.assert_close(got, want)
    torch.testing.assert_close(got_grad, want_grad)
    torch.testing.assert_close(oracle.oracle_hinton(s, t, y, temperature, alpha), want.detach())


@pytest.mark.parametrize("beta", [0.0, 0.1, 0.5, 0.9, 1.0])
@pytest.mark.parametrize("temperature", [1.0, 2.0])
def test_jsd_agrees_with_trls_gkd_loss(ref, oracle, beta, temperature):
    s, t, y = oracle.logits_pair(int(beta * 10) + int(temperature), (3, 5, 17), dtype=torch.float64, p_ignore=0.3)
    leaf = s.clone().requires_grad_(True)
    want = gkd.GKDTrainer.generalized_jsd_loss(leaf, t, labels=y, beta=beta, temperature=temperature)
    (want_grad,) = torch.autograd.grad(want, leaf)
    leaf2 = s.clone().requires_grad_(True)
    got = ref.generalized_jsd(leaf2, t, y, beta=beta, temperature=temperature)
    (got_grad,) = torch.autograd.grad(got, leaf2)
    torch.testing.assert_close(got, want)
    torch.testing.assert_close(got_grad, want_grad)
    torch.testing.assert_close(oracle.oracle_jsd(s, t, y, beta, temperature), want.detach())


def test_jsd_with_nothing_counted_is_zero_like_trl(ref):
    s, t = torch.randn(2, 3, 5, dtype=torch.float64), torch.randn(2, 3, 5, dtype=torch.float64)
    y = torch.full((2, 3), -100)
    assert ref.generalized_jsd(s, t, y).item() == gkd.GKDTrainer.generalized_jsd_loss(s, t, labels=y).item() == 0.0
