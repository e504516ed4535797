"""Library twins of vision/focal_loss.

* ``torchvision.ops.sigmoid_focal_loss`` is the production sigmoid form.  torchvision is not in the
  test extra: its PyPI wheels are built against one torch release each (0.28.0 for torch 2.13) and
  the CPU torch of this project rejects their compiled operators (``operator torchvision::nms does
  not exist`` at import), so the comparison runs only where a matching torchvision imports and is
  skipped, with that reason, elsewhere.
* Always: with ``gamma = 0`` and no alpha the losses are torch's own cross-entropies
  (``F.binary_cross_entropy_with_logits``, ``F.cross_entropy``), and the reference agrees with the
  grader's element-by-element oracle.
"""
import pytest
import torch
import torch.nn.functional as F

from mlkata.engine import load_module
from helpers import ROOT


@pytest.fixture(scope="module")
def ref():
    return load_module(str(ROOT / "solutions" / "vision" / "focal_loss.py"), "twin_solution_vision_focal_loss")


@pytest.fixture(scope="module")
def oracle():
    return load_module(str(ROOT / "graders" / "vision" / "focal_loss.py"), "twin_grader_vision_focal_loss")


def torchvision_ops():
    try:
        import torchvision.ops
    except Exception as e:             # noqa: BLE001 - an ImportError or torchvision's operator registration error
        pytest.skip(f"torchvision does not import against this torch ({type(e).__name__}: {e})")
    return torchvision.ops


@pytest.mark.parametrize("alpha,gamma,reduction", [(0.25, 2.0, "none"), (-1.0, 2.0, "mean"), (0.5, 0.0, "sum"),
                                                   (0.9, 3.0, "none")])
def test_sigmoid_form_agrees_with_torchvision(ref, alpha, gamma, reduction):
    ops = torchvision_ops()
    g = torch.Generator().manual_seed(0)
    x = torch.randn(4, 9, 3, generator=g, dtype=torch.float64) * 3
    t = (torch.rand(4, 9, 3, generator=g) < 0.3).double()
    a, b = x.clone().requires_grad_(True), x.clone().requires_grad_(True)
    want = ops.sigmoid_focal_loss(a, t, alpha=alpha, gamma=gamma, reduction=reduction)
    got = ref.sigmoid_focal_loss(b, t, alpha=alpha, gamma=gamma, reduction=reduction)
    torch.testing.assert_close(got, want)
    want.sum().backward()
    got.sum().backward()
    torch.testing.assert_close(b.grad, a.grad)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gamma_zero_is_torchs_cross_entropy(ref, seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(7, 5, generator=g, dtype=torch.float64) * 4
    t = torch.rand(7, 5, generator=g, dtype=torch.float64)
    torch.testing.assert_close(ref.sigmoid_focal_loss(x, t, alpha=-1, gamma=0.0, reduction="mean"),
                               F.binary_cross_entropy_with_logits(x, t))
    y = torch.randint(5, (7,), generator=g)
    y[3] = -100
    torch.testing.assert_close(ref.softmax_focal_loss(x, y, gamma=0.0), F.cross_entropy(x, y))


@pytest.mark.parametrize("seed", [0, 1])
def test_reference_agrees_with_the_graders_oracle(ref, oracle, seed):
    x, t = oracle.sig_batch(seed, shape=(5, 8), soft=True, dtype=torch.float64)
    for alpha, gamma in [(0.25, 2.0), (-1.0, 1.5), (0.7, 0.0)]:
        torch.testing.assert_close(ref.sigmoid_focal_loss(x, t, alpha, gamma), oracle.oracle_sigmoid(x, t, alpha, gamma))
    logits, target, alpha = oracle.cls_batch(seed, p_ignore=0.3, dtype=torch.float64)
    torch.testing.assert_close(ref.softmax_focal_loss(logits, target, 2.0, alpha),
                               oracle.oracle_softmax(logits, target, 2.0, alpha))
