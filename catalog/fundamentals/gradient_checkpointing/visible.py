"""Visible checks: gradients through a checkpointed function equal the plain ones; the forward keeps
no activations (it runs once more in the backward pass); checkpoint_sequential's segments."""
import torch
import torch.nn as nn

from mlkata.checks import check, expect, expect_close, expect_equal, probe


class Counted(nn.Module):
    """A layer (Linear + tanh, optional dropout) that counts how often it runs."""

    def __init__(self, width, seed, dropout=0.0, dtype=torch.float64):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.weight = nn.Parameter(torch.randn(width, width, generator=g, dtype=dtype) / width ** 0.5)
        self.bias = nn.Parameter(torch.randn(width, generator=g, dtype=dtype) * 0.1)
        self.dropout, self.calls = dropout, 0

    def forward(self, x):
        self.calls += 1
        y = torch.tanh(x @ self.weight.T + self.bias)
        return nn.functional.dropout(y, self.dropout, training=True) if self.dropout else y


def stack(n, width, seed=0, dropout=0.0):
    return [Counted(width, seed + i, dropout) for i in range(n)]


class Saved:
    """Counts the elements autograd saves for backward (saved_tensors_hooks)."""

    def __init__(self):
        self.numel = 0

    def pack(self, t):
        self.numel += t.numel()
        return t

    def unpack(self, t):
        return t


@probe
def run_stack(sub, layers, x, how, segments=None, rng_seed=None):
    """Apply ``layers`` to x (plain, through checkpoint on the whole stack, or checkpoint_sequential),
    backpropagate sum(output), and report the output, the gradients, the calls per layer after the
    forward and after the backward, and the elements saved for backward."""
    x = x.detach().clone().requires_grad_(True)
    if rng_seed is not None:
        torch.random.default_generator.manual_seed(rng_seed)
    saved = Saved()
    with torch.autograd.graph.saved_tensors_hooks(saved.pack, saved.unpack):
        if how == "plain":
            y = x
            for layer in layers:
                y = layer(y)
        elif how == "checkpoint":
            def whole(inp):
                for layer in layers:
                    inp = layer(inp)
                return inp
            y = sub.checkpoint(whole, x)
        else:
            y = sub.checkpoint_sequential(layers, segments, x)
    after_forward = [layer.calls for layer in layers]
    y.sum().backward()
    return {"y": y.detach(), "x_grad": x.grad, "param_grads": [[l.weight.grad, l.bias.grad] for l in layers],
            "calls_forward": after_forward, "calls_backward": [layer.calls for layer in layers],
            "saved": saved.numel}


def plain(layers, x, rng_seed=None):
    """The oracle: the same layers without checkpointing (fresh copies of their parameters)."""
    import copy
    layers = copy.deepcopy(layers)
    x = x.detach().clone().requires_grad_(True)
    if rng_seed is not None:
        torch.random.default_generator.manual_seed(rng_seed)
    y = x
    for layer in layers:
        y = layer(y)
    y.sum().backward()
    return {"y": y.detach(), "x_grad": x.grad, "param_grads": [[l.weight.grad, l.bias.grad] for l in layers]}


def expect_same_gradients(got, want, label):
    expect_close(got["y"], want["y"], "the checkpointed function returns the same value", rtol=1e-10, atol=1e-12,
                 what=f"output ({label})")
    expect_close([got["x_grad"], got["param_grads"]], [want["x_grad"], want["param_grads"]],
                 "backward recomputes the segment with gradients enabled and backpropagates the incoming gradient: "
                 "the input's and every parameter's gradient equal the plain run's", rtol=1e-8, atol=1e-12,
                 what=f"[input gradient, parameter gradients] ({label})")


X = torch.randn(3, 4, generator=torch.Generator().manual_seed(1), dtype=torch.float64)


@check("checkpoint: gradients of the input and of the parameters inside equal the plain run's")
def checkpoint_gradients(run):
    layers = stack(3, 4)
    got = run(run_stack, layers, X, "checkpoint")
    expect_same_gradients(got, plain(layers, X), "3 layers in one checkpoint")


@check("checkpoint keeps no activations: each layer runs once in the forward and once more in the backward")
def recomputes(run):
    layers = stack(3, 4)
    got = run(run_stack, layers, X, "checkpoint")
    expect_equal([got["calls_forward"], got["calls_backward"]], [[1, 1, 1], [2, 2, 2]], "the forward runs the "
                 "function once under no_grad; the backward runs it again to rebuild the graph",
                 what="[calls per layer after forward, after backward]")
    expect(got["saved"] <= X.numel(), "the forward saves only the inputs for backward (torch.no_grad inside)",
           f"{got['saved']} elements were saved for backward; the input alone has {X.numel()}")
    expect_same_gradients(got, plain(layers, X), "the same run")


@check("checkpoint_sequential(7 layers, 3 segments): layers 0-1 and 2-3 checkpointed, 4-6 run plainly")
def sequential_segments(run):
    layers = stack(7, 4)
    got = run(run_stack, layers, X, "sequential", segments=3)
    expect_equal(got["calls_backward"], [2, 2, 2, 2, 1, 1, 1], "size = 7 // 3 = 2: two checkpointed segments of 2 "
                 "layers, then the last 3 layers plainly (they run once)", what="calls per layer after backward")
    expect_same_gradients(got, plain(layers, X), "7 layers, 3 segments")
