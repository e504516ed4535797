"""Visible checks: the SwiGLU gate on a few numbers, and the LLaMA MLP's parameters and output."""
import math

import torch

from mlkata.checks import Fail, check, expect, expect_close, probe


@probe
def gate(sub, x_gate, x_up, grad=False, grad_out=None):
    """Call swiglu; with ``grad``, backpropagate ``(y * grad_out).sum()`` and report both gradients."""
    if grad:
        x_gate = x_gate.detach().clone().requires_grad_(True)
        x_up = x_up.detach().clone().requires_grad_(True)
    before = (x_gate.detach().clone(), x_up.detach().clone())
    y = sub.swiglu(x_gate, x_up)
    out = {"y": y, "unchanged": bool(torch.equal(x_gate.detach(), before[0]) and torch.equal(x_up.detach(), before[1])),
           "differentiable": None, "gate_grad": None, "up_grad": None}
    if grad:
        out["differentiable"] = isinstance(y, torch.Tensor) and y.requires_grad
        if out["differentiable"]:
            (y * (torch.ones_like(y) if grad_out is None else grad_out)).sum().backward()
            out["gate_grad"], out["up_grad"] = x_gate.grad, x_up.grad
    return out


@probe
def mlp(sub, hidden_size, intermediate_size, x=None, weights=None, dtype=None, grad_out=None):
    """Build SwiGLUMLP(hidden_size, intermediate_size), optionally cast it to ``dtype`` and load
    ``weights`` (a dict name -> tensor) by parameter name; report its parameters and, given ``x``,
    its output (and, given ``grad_out``, the gradients of its parameters)."""
    layer = sub.SwiGLUMLP(hidden_size, intermediate_size)
    if dtype is not None:
        layer = layer.to(dtype)
    params = dict(layer.named_parameters())
    out = {"params": {n: list(p.shape) for n, p in params.items()},
           "trainable": sorted(n for n, p in params.items() if p.requires_grad),
           "state_dict": sorted(layer.state_dict().keys()), "y": None, "grads": None, "problem": None}
    if weights is not None:
        missing = [n for n in weights if n not in params]
        if missing:
            out["problem"] = f"the module has no parameter named {missing[0]!r}; its parameters: {sorted(params)}"
            return out
        with torch.no_grad():
            for n, w in weights.items():
                params[n].copy_(w)
    if x is not None:
        y = layer(x)
        out["y"] = y.detach()
        if grad_out is not None and y.requires_grad:
            (y * grad_out).sum().backward()
            out["grads"] = {n: p.grad for n, p in params.items()}
    return out


def loaded(got):
    """The report of an mlp probe that loaded weights, or a Fail naming the missing parameter."""
    if got["problem"]:
        raise Fail("SwiGLUMLP's parameters are gate_proj.weight, up_proj.weight and down_proj.weight (LLaMA's "
                   "names: checkpoints are loaded by name)", got["problem"])
    return got


def silu(z):
    return z / (1 + math.exp(-z))


@check("swiglu(gate, up) = silu(gate) * up with silu(z) = z * sigmoid(z)")
def gate_small(run):
    g = torch.tensor([0.0, 1.0, -1.0, 2.0])
    u = torch.tensor([5.0, 2.0, 3.0, -1.0])
    got = run(gate, g, u)
    want = torch.tensor([0.0, 2 * silu(1.0), 3 * silu(-1.0), -silu(2.0)])
    expect_close(got["y"], want, "swiglu(x_gate, x_up) = x_gate * sigmoid(x_gate) * x_up: SiLU goes on the gate "
                 "only, the up branch stays linear", what="output")


@check("SwiGLUMLP has exactly gate_proj, up_proj, down_proj weights of LLaMA's shapes, no biases")
def mlp_parameters(run):
    g = torch.Generator().manual_seed(0)
    weights = {"gate_proj.weight": torch.randn(16, 6, generator=g), "up_proj.weight": torch.randn(16, 6, generator=g),
               "down_proj.weight": torch.randn(6, 16, generator=g)}
    x = torch.randn(3, 6, generator=g)
    got = run(mlp, 6, 16, x, weights)
    want = {"down_proj.weight": [6, 16], "gate_proj.weight": [16, 6], "up_proj.weight": [16, 6]}
    expect(got["params"] == want, "three bias-free nn.Linear layers: gate_proj and up_proj map hidden -> "
           "intermediate (weight [intermediate, hidden]), down_proj maps intermediate -> hidden",
           f"parameters (name: shape) for hidden 6, intermediate 16: expected {want}, your module has {got['params']}")
    gate_up = torch.nn.functional.silu(x @ weights["gate_proj.weight"].T) * (x @ weights["up_proj.weight"].T)
    expect_close(loaded(got)["y"], gate_up @ weights["down_proj.weight"].T,
                 "forward(x) = down_proj(silu(gate_proj(x)) * up_proj(x))", what="output with loaded weights")


@check("SwiGLUMLP(x) = down_proj(silu(gate_proj(x)) * up_proj(x))")
def mlp_small(run):
    # hidden 2, intermediate 2, weights chosen so every step is easy to follow
    weights = {"gate_proj.weight": torch.tensor([[1.0, 0.0], [0.0, 1.0]]),
               "up_proj.weight": torch.tensor([[2.0, 0.0], [1.0, 1.0]]),
               "down_proj.weight": torch.tensor([[1.0, 1.0], [0.0, -1.0]])}
    x = torch.tensor([[1.0, -1.0]])
    # gate = [1, -1], up = [2, 0] -> h = [2 silu(1), 0] -> down = [2 silu(1), 0]
    got = loaded(run(mlp, 2, 2, x, weights))
    expect_close(got["y"], torch.tensor([[2 * silu(1.0), 0.0]]), "forward = down_proj(silu(gate_proj(x)) * "
                 "up_proj(x))", what="output")
