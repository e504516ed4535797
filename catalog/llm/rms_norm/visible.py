"""Visible checks: RMSNorm on small hand-computed vectors, and the RMSNorm module."""
import math

import torch

from mlkata.checks import check, expect, expect_close, expect_tensor, probe


@probe
def norm(sub, x, weight, eps=None, grad=False, grad_out=None):
    """Call rms_norm (eps left at its default when None); with ``grad``, backpropagate
    ``(y * grad_out).sum()`` and report the gradients of x and weight."""
    if grad:
        x = x.detach().clone().requires_grad_(True)
        weight = weight.detach().clone().requires_grad_(True)
    x_before = x.detach().clone()
    y = sub.rms_norm(x, weight) if eps is None else sub.rms_norm(x, weight, eps)
    out = {"y": y, "x_unchanged": bool(torch.equal(x.detach(), x_before)), "differentiable": None,
           "x_grad": None, "weight_grad": None}
    if grad:
        out["differentiable"] = isinstance(y, torch.Tensor) and y.requires_grad
        if out["differentiable"]:
            (y * (torch.ones_like(y) if grad_out is None else grad_out)).sum().backward()
            out["x_grad"], out["weight_grad"] = x.grad, weight.grad
    return out


@probe
def module(sub, hidden_size, x=None, eps=None, weight=None, grad_out=None):
    """Build RMSNorm(hidden_size) (eps left at its default when None), optionally overwrite its
    weight, report its state and, given ``x``, its output (and the weight's gradient for
    ``grad_out``)."""
    layer = sub.RMSNorm(hidden_size) if eps is None else sub.RMSNorm(hidden_size, eps=eps)
    w = getattr(layer, "weight", None)
    out = {"weight": w.detach().clone() if isinstance(w, torch.Tensor) else w,
           "weight_is_parameter": isinstance(w, torch.nn.Parameter),
           "eps": getattr(layer, "eps", None), "y": None, "weight_grad": None}
    if weight is not None:
        with torch.no_grad():
            layer.weight.copy_(weight)
    if x is not None:
        y = layer(x)
        out["y"] = y.detach()
        if grad_out is not None and y.requires_grad:
            (y * grad_out).sum().backward()
            out["weight_grad"] = layer.weight.grad
    return out


@check("x = [3, 4] has RMS sqrt(12.5): y = x / sqrt(mean(x^2) + eps) * weight")
def small_case(run):
    got = run(norm, torch.tensor([3.0, 4.0]), torch.tensor([1.0, 2.0]))
    rms = math.sqrt(12.5 + 1e-6)
    expect_close(got["y"], torch.tensor([3.0 / rms, 2 * 4.0 / rms]),
                 "y = x / sqrt(mean(x^2) + eps) * weight (mean over the last dimension)", what="output")


@check("each row is normalised on its own, over the last dimension")
def per_row(run):
    x = torch.tensor([[1.0, -1.0, 1.0, -1.0], [10.0, 0.0, 0.0, 0.0]])
    got = run(norm, x, torch.ones(4))
    # row 0: RMS 1; row 1: RMS sqrt(100 / 4) = 5
    expect_close(got["y"], torch.tensor([[1.0, -1.0, 1.0, -1.0], [2.0, 0.0, 0.0, 0.0]]),
                 "the mean of x^2 is taken over the last dimension of each row separately", rtol=1e-5, what="output")


@check("RMSNorm does not centre: a constant vector stays constant (LayerNorm would give zeros)")
def no_centring(run):
    x = torch.tensor([[2.0, 2.0, 2.0, 2.0, 2.0], [1.0, 3.0, 1.0, 3.0, 1.0]])
    got = run(norm, x, torch.ones(5))
    rms = torch.tensor([[2.0], [math.sqrt(21 / 5)]])                  # sqrt(mean(x^2)) per row
    expect_close(got["y"], x / rms, "divide by the root mean square only -- do not subtract the mean",
                 rtol=1e-5, what="output for rows [2, 2, 2, 2, 2] and [1, 3, 1, 3, 1]")


@check("the RMSNorm module: weight = ones(hidden_size) as a parameter, eps = 1e-6, forward = rms_norm")
def the_module(run):
    x = torch.tensor([[3.0, 4.0, 0.0]])
    got = run(module, 3, x)
    expect_tensor(got["weight"], "RMSNorm.weight is a tensor of shape (hidden_size,)", shape=(3,))
    expect(got["weight_is_parameter"], "RMSNorm.weight is an nn.Parameter (it is learned)",
           f"weight is a {type(got['weight']).__name__}, not an nn.Parameter")
    expect_close(got["weight"], torch.ones(3), "RMSNorm.weight starts at ones", what="weight")
    expect_close(got["eps"], 1e-6, "RMSNorm's default eps is 1e-6 (LLaMA's rms_norm_eps)", rtol=0, atol=1e-12,
                 what="eps")
    rms = math.sqrt(25.0 / 3 + 1e-6)
    expect_close(got["y"], x / rms, "forward(x) = rms_norm(x, self.weight, self.eps)", what="output")
