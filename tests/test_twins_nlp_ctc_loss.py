"""Library twin of nlp/ctc_loss: the reference agrees with ``torch.nn.functional.ctc_loss`` --
losses for every reduction and ``zero_infinity``, gradients w.r.t. the logits through
``log_softmax`` (torch's CTC backward returns the gradient for normalised log-probabilities), other
blank ids, float32 and float64, empty targets, repeated labels and long sequences -- and its
per-sequence likelihood equals brute-force enumeration of paths on tiny cases."""
import pytest
import torch
import torch.nn.functional as F

from mlkata.engine import load_module
from helpers import ROOT


@pytest.fixture(scope="module")
def ref():
    return load_module(str(ROOT / "solutions" / "nlp" / "ctc_loss.py"), "twin_solution_nlp_ctc_loss")


@pytest.fixture(scope="module")
def oracle():
    return load_module(str(ROOT / "graders" / "nlp" / "ctc_loss.py"), "twin_grader_nlp_ctc_loss")


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
@pytest.mark.parametrize("zero_infinity", [False, True])
def test_agrees_with_torch_ctc_loss(ref, oracle, seed, reduction, zero_infinity):
    blank = [0, 5, 2][seed % 3]
    logits, targets, il, tl = oracle.batch(seed, T=9, N=5, C=6, S=5, blank=blank, repeats=seed % 2 == 1)
    a, b = logits.clone().requires_grad_(True), logits.clone().requires_grad_(True)
    want = F.ctc_loss(a.log_softmax(-1), targets, il, tl, blank=blank, reduction=reduction,
                      zero_infinity=zero_infinity)
    got = ref.ctc_loss(b.log_softmax(-1), targets, il, tl, blank=blank, reduction=reduction,
                       zero_infinity=zero_infinity)
    torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-10)
    if torch.isfinite(want).all():
        want.sum().backward()
        got.sum().backward()
        torch.testing.assert_close(b.grad, a.grad, rtol=1e-8, atol=1e-12)


def test_long_float32_sequences(ref, oracle):
    logits, targets, il, tl = oracle.batch(99, T=400, N=2, C=10, S=30, dtype=torch.float32)
    lp = logits.log_softmax(-1)
    torch.testing.assert_close(ref.ctc_loss(lp, targets, il, tl, reduction="none"),
                               F.ctc_loss(lp, targets, il, tl, reduction="none"), rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("target,T", [([1], 3), ([2, 2], 4), ([1, 2, 1], 5), ([], 2), ([1, 1, 1], 5)])
def test_likelihood_equals_brute_force_and_torch(ref, oracle, target, T):
    lp = torch.randn(T, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(T)).log_softmax(-1)
    want = oracle.brute_force_log_likelihood(lp, target)
    assert ref.ctc_log_likelihood(lp, target).item() == pytest.approx(want, rel=1e-12)
    torch_nll = F.ctc_loss(lp[:, None], torch.tensor([target + [1]]), torch.tensor([T]), torch.tensor([len(target)]),
                           reduction="sum")
    assert -torch_nll.item() == pytest.approx(want, rel=1e-12)
