"""Twin of systems/tensor_parallel: the sharded layers reproduce ``torch.nn.Linear`` / the unsharded
GeLU MLP (``nn.Sequential(nn.Linear, nn.GELU, nn.Linear)``) and their autograd gradients, sharded
the way Megatron-LM's ``ColumnParallelLinear`` (weight split along dim 0, ``partition_dim=0``) and
``RowParallelLinear`` (weight split along dim 1, bias added after the all-reduce) hold them.  The
reference's hand-written GeLU derivative matches autograd of ``F.gelu``."""
from pathlib import Path

import pytest
import torch

from mlkata.engine import load_module

ROOT = Path(__file__).resolve().parent.parent
REF = load_module(str(ROOT / "solutions" / "systems" / "tensor_parallel.py"), "_twin_ref_tensor_parallel")
GRADER = load_module(str(ROOT / "graders" / "systems" / "tensor_parallel.py"), "_twin_grader_tensor_parallel")


def mlp(d_in, hidden, d_out, seed):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(d_in, hidden), torch.nn.GELU(), torch.nn.Linear(hidden, d_out)).double()


@pytest.mark.parametrize("world", [1, 2, 4, 8])
def test_forward_and_backward_match_nn_modules(world):
    net = mlp(6, 16, 5, world)
    x = torch.randn(7, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(world))
    grad_out = torch.randn(7, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(100 + world))
    l1, l2 = net[0], net[2]
    args = (x, l1.weight.detach(), l1.bias.detach(), l2.weight.detach(), l2.bias.detach())
    xr = x.clone().requires_grad_(True)
    out = net(xr)
    out.backward(grad_out)
    outputs, n_fwd = REF.tp_mlp_forward(*args, world)
    assert n_fwd == 1
    for o in outputs:
        torch.testing.assert_close(o, out.detach(), rtol=1e-12, atol=1e-12)
    grads, n_bwd = REF.tp_mlp_backward(*args, grad_out, world)
    assert n_bwd == 1
    want = {"w1": l1.weight.grad.chunk(world, 0), "b1": l1.bias.grad.chunk(world, 0),
            "w2": l2.weight.grad.chunk(world, 1), "b2": [l2.bias.grad] * world, "x": [xr.grad] * world}
    for key, blocks in want.items():
        for got, w in zip(grads[key], blocks):
            torch.testing.assert_close(got, w, rtol=1e-10, atol=1e-12)
    oracle = GRADER.backward_oracle(*args, grad_out, world)
    for key, blocks in want.items():
        for got, w in zip(oracle[key], blocks):
            torch.testing.assert_close(got, w, rtol=1e-10, atol=1e-12)


def test_gelu_derivative_matches_autograd():
    a = torch.linspace(-8, 8, 1001, dtype=torch.float64, requires_grad=True)
    torch.nn.functional.gelu(a).sum().backward()
    torch.testing.assert_close(REF._gelu_grad(a.detach()), a.grad, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(REF._gelu(a.detach()), torch.nn.functional.gelu(a.detach()), rtol=1e-12, atol=1e-12)
