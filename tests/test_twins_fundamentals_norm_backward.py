"""Library twins of fundamentals/norm_backward: the reference's hand-written gradients and the
grader's oracles agree with torch.autograd through ``torch.nn.LayerNorm`` and ``torch.nn.RMSNorm``
(the modules, not only the functional forms the grader uses), in float64 to 1e-10 and float32 to
1e-5, on random shapes; and with ``torch.autograd.gradcheck``'s numerical Jacobian."""
from pathlib import Path

import pytest
import torch

from mlkata.engine import load_module

ROOT = Path(__file__).resolve().parent.parent
REF = load_module(str(ROOT / "solutions" / "fundamentals" / "norm_backward.py"), "_twin_ref_norm_backward")
GRADER = load_module(str(ROOT / "graders" / "fundamentals" / "norm_backward.py"), "_twin_grader_norm_backward")


def module_grads(module, x, grad_out):
    x = x.detach().clone().requires_grad_(True)
    module(x).backward(grad_out)
    return x.grad, *(p.grad for p in module.parameters())


@pytest.mark.parametrize("shape", [(9,), (4, 16), (2, 5, 8), (3, 2, 2, 6)])
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_layer_norm_backward_matches_nn_layernorm(shape, dtype):
    x, w, grad_out = GRADER.data(10 * len(shape) + shape[-1], shape, dtype=dtype, scale=2.0, offset=0.3)
    ln = torch.nn.LayerNorm(shape[-1], eps=1e-5, dtype=dtype)
    with torch.no_grad():
        ln.weight.copy_(w)
        ln.bias.normal_()
    want = module_grads(ln, x, grad_out)
    tol = dict(rtol=1e-10, atol=1e-12) if dtype == torch.float64 else dict(rtol=1e-4, atol=1e-5)
    for got in (REF.layer_norm_backward(x, w, grad_out), GRADER.V.ln_oracle(x, w, grad_out)):
        for g, w_ in zip(got, want):
            torch.testing.assert_close(g, w_, **tol)


@pytest.mark.parametrize("shape", [(9,), (4, 16), (2, 5, 8), (3, 2, 2, 6)])
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_rms_norm_backward_matches_nn_rmsnorm(shape, dtype):
    x, w, grad_out = GRADER.data(7 + 10 * len(shape) + shape[-1], shape, dtype=dtype, scale=2.0, offset=0.3)
    rms = torch.nn.RMSNorm(shape[-1], eps=1e-6, dtype=dtype)
    with torch.no_grad():
        rms.weight.copy_(w)
    want = module_grads(rms, x, grad_out)
    tol = dict(rtol=1e-10, atol=1e-12) if dtype == torch.float64 else dict(rtol=1e-4, atol=1e-5)
    for got in (REF.rms_norm_backward(x, w, grad_out), GRADER.V.rms_oracle(x, w, grad_out)):
        for g, w_ in zip(got, want):
            torch.testing.assert_close(g, w_, **tol)


def test_reference_is_the_vjp_of_gradchecks_numerical_jacobian():
    """The vector-Jacobian products the reference returns are what gradcheck's finite differences give."""
    x, w, grad_out = GRADER.data(5, (3, 5), dtype=torch.float64)
    ln = lambda t: torch.nn.functional.layer_norm(t, (5,), w, None, 1e-5)  # noqa: E731
    rms = lambda t: torch.nn.functional.rms_norm(t, (5,), w, 1e-6)          # noqa: E731
    for f, dx in ((ln, REF.layer_norm_backward(x, w, grad_out)[0]), (rms, REF.rms_norm_backward(x, w, grad_out)[0])):
        jac = torch.autograd.functional.jacobian(f, x)                     # (3, 5, 3, 5) exact Jacobian
        torch.testing.assert_close(dx, torch.einsum("ij,ijkl->kl", grad_out, jac), rtol=1e-10, atol=1e-12)
        assert torch.autograd.gradcheck(f, (x.clone().requires_grad_(True),))
