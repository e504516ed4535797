"""Visible checks: LayerNorm and RMSNorm backward on a tiny fixed batch, compared with torch's
autograd through F.layer_norm and F.rms_norm, and the parameter gradients of a 3-D input."""
import torch
import torch.nn.functional as F

from mlkata.checks import Fail, check, describe, expect_close, expect_tensor, probe


@probe
def ln_backward(sub, x, weight, grad_out, **kwargs):
    """Call layer_norm_backward; report its results and the inputs afterwards."""
    out = sub.layer_norm_backward(x, weight, grad_out, **kwargs)
    return {"out": out, "after": [x, weight, grad_out]}


@probe
def rms_backward(sub, x, weight, grad_out, **kwargs):
    """Call rms_norm_backward; report its results and the inputs afterwards."""
    out = sub.rms_norm_backward(x, weight, grad_out, **kwargs)
    return {"out": out, "after": [x, weight, grad_out]}


LN_NAMES = ("dx", "dweight", "dbias")
RMS_NAMES = ("dx", "dweight")
RULES = {
    "ln dx": "LayerNorm: dx = (g - mean(g) - x_hat * mean(g * x_hat)) / sigma, g = grad_out * weight, means over "
             "the last dim, sigma = sqrt(biased var + eps)",
    "ln dweight": "LayerNorm: dweight = sum over every leading index of grad_out * x_hat",
    "ln dbias": "LayerNorm: dbias = sum over every leading index of grad_out",
    "rms dx": "RMSNorm: dx = (g - x_hat * mean(g * x_hat)) / r, g = grad_out * weight, r = sqrt(mean(x^2) + eps)",
    "rms dweight": "RMSNorm: dweight = sum over every leading index of grad_out * x / r",
}


def ln_oracle(x, weight, grad_out, eps=1e-5):
    """(dx, dweight, dbias) from autograd through F.layer_norm."""
    x, weight = (t.detach().clone().requires_grad_(True) for t in (x, weight))
    bias = torch.zeros_like(weight, requires_grad=True)
    F.layer_norm(x, (x.shape[-1],), weight, bias, eps).backward(grad_out)
    return x.grad, weight.grad, bias.grad


def rms_oracle(x, weight, grad_out, eps=1e-6):
    """(dx, dweight) from autograd through F.rms_norm."""
    x, weight = (t.detach().clone().requires_grad_(True) for t in (x, weight))
    F.rms_norm(x, (x.shape[-1],), weight, eps).backward(grad_out)
    return x.grad, weight.grad


def unpack(got, x, names, fn):
    """Judge side: a tuple of len(names) tensors shaped like x / (D,), in x's dtype."""
    out = got["out"]
    if not isinstance(out, (tuple, list)) or len(out) != len(names):
        raise Fail(f"{fn} returns a tuple ({', '.join(names)})",
                   f"expected a tuple of {len(names)} tensors, your code returned {describe(out)}")
    for name, value in zip(names, out):
        shape = x.shape if name == "dx" else x.shape[-1:]
        expect_tensor(value, f"{name} is a tensor of shape {list(shape)} and dtype {x.dtype}"
                             + ("" if name == "dx" else " (summed over every leading dimension)"),
                      shape=shape, dtype=x.dtype)
    return out


def expect_agrees(got, want, names, kind, what, rtol=1e-4, atol=1e-5, only=None):
    """Judge side: each named gradient equals the oracle's."""
    for name, g, w in zip(names, got, want):
        if only is None or name in only:
            expect_close(g, w, RULES[f"{kind} {name}"], rtol=rtol, atol=atol, what=f"{name} ({what})")


X = torch.tensor([[1.0, 2.0, 4.0, -1.0], [0.5, 0.5, -2.0, 3.0]])
W = torch.tensor([1.0, -0.5, 2.0, 0.25])
G = torch.tensor([[0.3, -1.0, 0.5, 2.0], [1.0, 0.0, -0.5, 0.25]])


@check("layer_norm_backward: dx on a 2x4 batch equals autograd's")
def ln_dx_small(run):
    got = unpack(run(ln_backward, X, W, G), X, LN_NAMES, "layer_norm_backward")
    expect_agrees(got, ln_oracle(X, W, G), LN_NAMES, "ln", "2x4 batch", only=("dx",))


@check("layer_norm_backward: dweight and dbias on a 2x4 batch equal autograd's")
def ln_params_small(run):
    got = unpack(run(ln_backward, X, W, G), X, LN_NAMES, "layer_norm_backward")
    expect_agrees(got, ln_oracle(X, W, G), LN_NAMES, "ln", "2x4 batch", only=("dweight", "dbias"))


@check("rms_norm_backward: dx and dweight on a 2x4 batch equal autograd's")
def rms_small(run):
    got = unpack(run(rms_backward, X, W, G), X, RMS_NAMES, "rms_norm_backward")
    expect_agrees(got, rms_oracle(X, W, G), RMS_NAMES, "rms", "2x4 batch")


@check("a (2, 3, 4) input: dweight and dbias sum over both leading dimensions")
def three_d_params(run):
    g = torch.Generator().manual_seed(0)
    x, grad_out = torch.randn(2, 3, 4, generator=g), torch.randn(2, 3, 4, generator=g)
    got = unpack(run(ln_backward, x, W, grad_out), x, LN_NAMES, "layer_norm_backward")
    expect_agrees(got, ln_oracle(x, W, grad_out), LN_NAMES, "ln", "(2, 3, 4) input", only=("dweight", "dbias"))
    got = unpack(run(rms_backward, x, W, grad_out), x, RMS_NAMES, "rms_norm_backward")
    expect_agrees(got, rms_oracle(x, W, grad_out), RMS_NAMES, "rms", "(2, 3, 4) input", only=("dweight",))
