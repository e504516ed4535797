"""Visible checks: rows of a small matrix, a normalized_shape of two dimensions, weight and bias,
and the module's parameters."""
import torch

from mlkata.checks import check, expect, expect_close, probe


@probe
def functional(sub, x, normalized_shape, weight=None, bias=None, eps=None, grad_out=None):
    """``layer_norm(x, normalized_shape, weight, bias[, eps])``.  With ``grad_out``, x (and weight and
    bias when given) require grad and the gradients of sum(out * grad_out) are reported."""
    track = grad_out is not None
    x = x.clone().requires_grad_(track)
    weight = None if weight is None else weight.clone().requires_grad_(track)
    bias = None if bias is None else bias.clone().requires_grad_(track)
    kwargs = {} if eps is None else {"eps": eps}
    out = sub.layer_norm(x, normalized_shape, weight, bias, **kwargs)
    report = {"out": out, "x": x}
    if track:
        (out * grad_out).sum().backward()
        report.update(x_grad=x.grad, weight_grad=None if weight is None else weight.grad,
                      bias_grad=None if bias is None else bias.grad)
    return report


@probe
def module(sub, args, kwargs, x=None, params=None, dtype=None, grad_out=None):
    """Build ``LayerNorm(*args, **kwargs)``; report its parameters and ``normalized_shape``; then
    optionally move it to ``dtype``, copy ``params`` (weight, bias) in, and run it on ``x`` (with
    the gradients of sum(out * grad_out) when ``grad_out`` is given)."""
    m = sub.LayerNorm(*args, **kwargs)
    report = {"parameters": {n: tuple(p.shape) for n, p in m.named_parameters()},
              "normalized_shape": getattr(m, "normalized_shape", "missing"),
              "weight": getattr(m, "weight", "missing"), "bias": getattr(m, "bias", "missing")}
    if dtype is not None:
        m = m.to(dtype)
    if params is not None:
        with torch.no_grad():
            m.weight.copy_(params[0])
            m.bias.copy_(params[1])
    if x is not None:
        x = x.clone().requires_grad_(grad_out is not None)
        out = m(x)
        report["out"] = out
        if grad_out is not None:
            (out * grad_out).sum().backward()
            report["x_grad"] = x.grad
            report["param_grads"] = {n: p.grad for n, p in m.named_parameters()}
    return report


X = torch.tensor([[1.0, 2.0, 3.0, 4.0], [10.0, 10.0, 20.0, 40.0]])


def by_hand(x, dims, eps=1e-5):
    mean = x.mean(dims, keepdim=True)
    var = ((x - mean) ** 2).mean(dims, keepdim=True)         # biased
    return (x - mean) / torch.sqrt(var + eps)


@check("layer_norm(x, 4) normalizes each row of a [2, 4] matrix with its own mean and biased variance")
def rows(run):
    got = run(functional, X, 4)
    expect_close(got["out"], by_hand(X, (-1,)),
                 "y = (x - mean) / sqrt(var + eps) per row; var divides by the row length (biased)", what="output")


@check("normalized_shape (3, 4) normalizes each [3, 4] slice of a [2, 3, 4] input jointly")
def two_dims(run):
    x = torch.arange(24.0).reshape(2, 3, 4) ** 1.5
    got = run(functional, x, (3, 4))
    expect_close(got["out"], by_hand(x, (-2, -1)),
                 "mean and variance are taken over all of the last k = len(normalized_shape) dimensions together",
                 what="output")


@check("weight and bias scale and shift elementwise")
def affine(run):
    w, b = torch.tensor([1.0, 2.0, -1.0, 0.5]), torch.tensor([0.0, 1.0, 2.0, 3.0])
    got = run(functional, X, [4], w, b)
    expect_close(got["out"], by_hand(X, (-1,)) * w + b, "y = x_hat * weight + bias, elementwise over the last dims",
                 what="output with weight and bias")


@check("LayerNorm((3, 4)) has weight = ones and bias = zeros of shape (3, 4): fresh, it only normalizes")
def module_parameters(run):
    x = torch.arange(24.0).reshape(2, 3, 4) ** 1.5
    got = run(module, [(3, 4)], {}, x)
    expect(got["parameters"] == {"weight": (3, 4), "bias": (3, 4)},
           "the module's learnable parameters are weight and bias, each of shape normalized_shape",
           f"named_parameters gave {got['parameters']}")
    expect_close(got["weight"], torch.ones(3, 4), "weight starts at ones", what="weight")
    expect_close(got["bias"], torch.zeros(3, 4), "bias starts at zeros", what="bias")
    expect_close(got["out"], by_hand(x, (-2, -1)), "forward(x) is layer_norm over the last len(normalized_shape) "
                 "dimensions, with the module's weight and bias", what="output of a fresh LayerNorm((3, 4))")
