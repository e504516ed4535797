"""Visible checks: the FFN's parameter names, two tiny cases worked out by hand (ReLU and exact
GELU), and agreement with the feed-forward block of torch.nn.TransformerEncoderLayer."""
import math

import torch
import torch.nn.functional as F

from mlkata.checks import Fail, check, expect_close, probe

# Callables cannot travel to the probe by value: a probe receives "callable:<name>" and builds it.
CALLABLES = {"silu": F.silu, "tanh": torch.tanh}


@probe
def ffn(sub, d_model, d_ff, x, params=None, dropout=None, activation=None, bias=None, train=False, seed=0,
        grad_out=None):
    """Build FeedForward(d_model, d_ff, dropout, activation, bias), copy ``params`` into it by name,
    set train/eval mode and apply it to ``x`` (a tensor, or a list of tensors).  With ``grad_out``,
    also report the gradients of loss = sum(out * grad_out)."""
    if isinstance(activation, str) and activation.startswith("callable:"):
        activation = CALLABLES[activation.split(":", 1)[1]]
    torch.manual_seed(seed)
    options = {k: v for k, v in dict(dropout=dropout, activation=activation, bias=bias).items() if v is not None}
    module = sub.FeedForward(d_model, d_ff, **options)            # an option left at None: its default
    named = dict(module.named_parameters())
    report = {"shapes": {n: tuple(p.shape) for n, p in named.items()}}
    if params is not None:
        if set(named) != set(params) or any(tuple(named[n].shape) != tuple(t.shape) for n, t in params.items()):
            return report          # the check reports the parameter mismatch
        if any(t.dtype == torch.float64 for t in params.values()):
            module.double()
        with torch.no_grad():
            for n, t in params.items():
                named[n].copy_(t)
    module.train(train)
    if isinstance(x, list):
        report["out"] = [module(xi) for xi in x]
        return report
    x_in = x.clone().requires_grad_(grad_out is not None)
    out = module(x_in)
    report["out"] = out
    if grad_out is not None:
        (out * grad_out).sum().backward()
        report["grads"] = {n: p.grad for n, p in named.items()}
        report["x_grad"] = x_in.grad
    return report


def torch_layer(d_model, d_ff, activation="relu", bias=True, seed=0, dtype=torch.float32):
    """torch's encoder layer with random parameters (nonzero biases), eval mode, dropout 0;
    returns (layer, the FFN's parameters by FeedForward's names)."""
    g = torch.Generator().manual_seed(seed)   # a generator of its own: the judge grades exercises in threads that share torch's global RNG
    layer = torch.nn.TransformerEncoderLayer(d_model, 1, dim_feedforward=d_ff, dropout=0.0, activation=activation,
                                             batch_first=True, bias=bias, dtype=dtype)
    with torch.no_grad():
        for p in layer.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.5)
    layer.eval()
    params = {n: p.detach().clone() for n, p in layer.named_parameters() if n.startswith(("linear1.", "linear2."))}
    return layer, params


def expect_params(got, want_shapes, label):
    if got["shapes"] != want_shapes:
        raise Fail("parameters named and shaped as in torch.nn.TransformerEncoderLayer: linear1 = "
                   "nn.Linear(d_model, d_ff), linear2 = nn.Linear(d_ff, d_model), nothing else",
                   f"{label}: expected named_parameters {want_shapes},\n  your module has {got['shapes']}")


# A 2 -> 2 -> 2 network small enough to run by hand.
W = {"linear1.weight": torch.tensor([[1.0, -1.0], [2.0, 0.0]]), "linear1.bias": torch.tensor([0.0, -1.0]),
     "linear2.weight": torch.tensor([[1.0, 1.0], [0.0, -1.0]]), "linear2.bias": torch.tensor([0.5, 0.0])}


@check("parameters: linear1.weight [d_ff, d_model], linear1.bias [d_ff], linear2.weight [d_model, d_ff], "
       "linear2.bias [d_model] -- and the module computes with them")
def parameter_names(run):
    layer, params = torch_layer(4, 16, seed=1)
    x = torch.linspace(-2.0, 2.0, 12).reshape(3, 4)
    got = run(ffn, 4, 16, x, params)
    expect_params(got, {"linear1.weight": (16, 4), "linear1.bias": (16,), "linear2.weight": (4, 16),
                        "linear2.bias": (4,)}, "FeedForward(d_model=4, d_ff=16)")
    with torch.no_grad():
        want = layer._ff_block(x)
    expect_close(got["out"], want, "out = linear2(relu(linear1(x)))", what="output with torch's layer's weights")


@check("ReLU by hand: x = [1, 2] -> hidden relu([-1, 1]) = [0, 1] -> output [1.5, -1]")
def tiny_relu(run):
    got = run(ffn, 2, 2, torch.tensor([[1.0, 2.0], [3.0, 1.0]]), params=W)
    expect_params(got, {n: tuple(t.shape) for n, t in W.items()}, "FeedForward(2, 2)")
    # x = [3, 1]: linear1 -> [2, 5], relu keeps both, linear2 -> [7 + 0.5, -5]
    expect_close(got["out"], torch.tensor([[1.5, -1.0], [7.5, -5.0]]),
                 "out = linear2(relu(linear1(x))); linear1 computes x @ W1^T + b1", what="output")


@check("activation='gelu' is the exact GELU, z * Phi(z) (erf form), between the two linears")
def tiny_gelu(run):
    got = run(ffn, 2, 2, torch.tensor([[1.0, 2.0]]), params=W, activation="gelu")
    expect_params(got, {n: tuple(t.shape) for n, t in W.items()}, "FeedForward(2, 2, activation='gelu')")
    gelu = [z * 0.5 * (1 + math.erf(z / math.sqrt(2))) for z in (-1.0, 1.0)]      # hidden pre-activations
    want = torch.tensor([[gelu[0] + gelu[1] + 0.5, -gelu[1]]])
    expect_close(got["out"], want, "gelu(z) = z * 0.5 * (1 + erf(z / sqrt(2))), applied to linear1's output",
                 rtol=1e-6, atol=1e-6, what="output")


@check("agrees with the feed-forward block of torch.nn.TransformerEncoderLayer holding the same weights")
def agrees_with_torch_layer(run):
    layer, params = torch_layer(8, 32, seed=1)
    x = torch.randn(2, 5, 8, generator=torch.Generator().manual_seed(2))
    got = run(ffn, 8, 32, x, params=params)
    expect_params(got, {n: tuple(t.shape) for n, t in params.items()}, "FeedForward(8, 32)")
    with torch.no_grad():
        want = layer._ff_block(x)
    expect_close(got["out"], want, "out = linear2(dropout(relu(linear1(x)))), the block torch's encoder layer "
                 "runs after attention", what="output [2, 5, 8]")
