"""Library twins of vision/conv2d_backward: the reference's three gradients and the grader's
autograd oracle agree with ``torch.nn.grad.conv2d_input`` / ``conv2d_weight`` (torch's own
convolution backward entry points) on random configurations, float64 to 1e-10."""
from pathlib import Path

import pytest
import torch
import torch.nn.grad as nn_grad

from mlkata.engine import load_module

ROOT = Path(__file__).resolve().parent.parent
REF = load_module(str(ROOT / "solutions" / "vision" / "conv2d_backward.py"), "_twin_ref_conv2d_backward")
GRADER = load_module(str(ROOT / "graders" / "vision" / "conv2d_backward.py"), "_twin_grader_conv2d_backward")
V = GRADER.V

CONFIGS = list(GRADER.CONFIGS) + [
    (2, 3, 2, 11, 6, 3, dict(stride=(3, 2), padding=(2, 1), dilation=(1, 2))),
    (1, 2, 3, 6, 8, (2, 4), dict(stride=2)),
]


@pytest.mark.parametrize("i", range(len(CONFIGS)))
def test_gradients_match_torch_nn_grad(i):
    N, C_in, C_out, H, W, k, conv = CONFIGS[i]
    x, w, go, conv = V.case(500 + i, N, C_in, C_out, H, W, k, dtype=torch.float64, **conv)
    want_dx = nn_grad.conv2d_input(x.shape, w, go, **conv)
    want_dw = nn_grad.conv2d_weight(x, w.shape, go, **conv)
    tol = dict(rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(REF.conv2d_grad_input(tuple(x.shape), w, go, **conv), want_dx, **tol)
    torch.testing.assert_close(REF.conv2d_grad_weight(x, tuple(w.shape), go, **conv), want_dw, **tol)
    torch.testing.assert_close(REF.conv2d_grad_bias(go), go.sum((0, 2, 3)), **tol)
    oracle = V.oracle(x, w, go, conv)
    torch.testing.assert_close(oracle["dx"], want_dx, **tol)
    torch.testing.assert_close(oracle["dweight"], want_dw, **tol)
