"""Hidden graders of fundamentals/residual_block: agreement with a block built from torch layers
(the layout of torchvision.models.resnet.BasicBlock) and loaded with the same random weights,
in training mode (outputs, running statistics, gradients) and in eval mode; the projection
shortcut's structure; odd spatial sizes; and the gradient that flows through the skip."""
import math

import torch
import torch.nn as nn

from mlkata.checks import Fail, check, expect, expect_close, visible_module

V = visible_module("fundamentals/residual_block")


class TorchBasicBlock(nn.Module):
    """The oracle: torchvision's BasicBlock, written with torch.nn layers."""

    def __init__(self, cin, cout=None, stride=1):
        super().__init__()
        cout = cin if cout is None else cout
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cout != cin:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(out)) + identity)


def random_state(args, seed, zero_convs=False):
    """Random weights (He-scaled convs), batch-norm affines and running statistics."""
    g = torch.Generator().manual_seed(seed)
    state = {}
    for k, shape in V.expected_shapes(*args).items():
        if k.endswith("num_batches_tracked"):
            state[k] = torch.tensor(0)
        elif len(shape) == 4:
            fan_in = shape[1] * shape[2] * shape[3]
            state[k] = torch.zeros(shape) if zero_convs else torch.randn(shape, generator=g) * math.sqrt(2 / fan_in)
        elif k.endswith("running_var"):
            state[k] = torch.rand(shape, generator=g) * 1.5 + 0.5
        elif k.endswith(".weight"):
            state[k] = torch.rand(shape, generator=g) + 0.5
        else:                                  # bias, running_mean
            state[k] = torch.randn(shape, generator=g) * 0.3
    return state


def oracle(x, args, state, mode, upstream=None):
    block = TorchBasicBlock(*args)
    block.load_state_dict(state)
    block.train(mode == "train")
    xin = x.clone().requires_grad_(upstream is not None)
    out = block(xin)
    grads = None
    if upstream is not None:
        out.backward(upstream)
        grads = {"x": xin.grad, **{n: p.grad for n, p in block.named_parameters()}}
    return {"out": out.detach(), "state_after": {k: v.clone() for k, v in block.state_dict().items()}, "grads": grads}


def out_shape(x, args):
    cout = args[0] if len(args) < 2 or args[1] is None else args[1]
    stride = args[2] if len(args) > 2 else 1
    n, _, h, w = x.shape
    return (n, cout, (h - 1) // stride + 1, (w - 1) // stride + 1)


def data(args, seed, shape=(4, None, 9, 7), scale=1.0):
    g = torch.Generator().manual_seed(seed)
    n, _, h, w = shape
    return torch.randn(n, args[0], h, w, generator=g) * scale


CONFIGS = [[8], [8, 16, 2], [6, 6, 2], [6, 12, 1]]   # identity, and the three ways to need a projection


@check("the projection shortcut: downsample = Sequential(1x1 conv, BatchNorm2d) exactly when stride != 1 or "
       "the channel count changes (and the block computes with it)", points=2)
def projection_structure(run):
    for i, args in enumerate(([8, 16, 1], [8, 8, 2], [8, 16, 2], [8, 8, 1], [8, None, 1], [3, 5, 2])):
        got = run(V.build, args)
        expect(got["is_module"], "ResidualBlock subclasses torch.nn.Module", "it is not an nn.Module")
        V.expect_structure(got["shapes"], args)
        x, state = data(args, 110 + i), random_state(args, 120 + i)
        got = run(V.forward, x, args, state, "train")
        expect_close(V.output_of(got, args, out_shape(x, args)), oracle(x, args, state, "train")["out"],
                     "out = relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)), shortcut = downsample(x) when the "
                     "shape changes, else x", rtol=1e-4, atol=1e-4, what=f"output of {V.block_name(args)}")


@check("agrees with torch layers (torchvision's BasicBlock) in training mode: identity and projection blocks, "
       "odd sizes, inputs up to 1e4", points=2)
def agrees_train(run):
    for i, args in enumerate(CONFIGS):
        for scale in (1.0, 1e4):
            x, state = data(args, i, scale=scale), random_state(args, 10 + i)
            got = run(V.forward, x, args, state, "train")
            want = oracle(x, args, state, "train")
            expect_close(V.output_of(got, args, out_shape(x, args)), want["out"],
                         "out = relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)), conv1 (not conv2) carrying the "
                         "stride, batch norms using batch statistics in training mode", rtol=1e-4, atol=1e-4 * scale,
                         what=f"output of {V.block_name(args)} in train mode (input scale {scale:g})")


@check("agrees with torch layers in eval mode (batch norms use their running statistics)", points=2)
def agrees_eval(run):
    for i, args in enumerate(CONFIGS):
        x, state = data(args, 20 + i), random_state(args, 30 + i)
        got = run(V.forward, x, args, state, "eval")
        want = oracle(x, args, state, "eval")
        expect_close(V.output_of(got, args, out_shape(x, args)), want["out"],
                     "in eval mode every batch norm normalizes with its running mean and variance",
                     what=f"output of {V.block_name(args)} in eval mode")


@check("a training-mode forward updates every batch norm's running statistics, like nn.BatchNorm2d")
def running_stats(run):
    for i, args in enumerate(CONFIGS[:2]):
        x, state = data(args, 40 + i), random_state(args, 50 + i)
        got = run(V.forward, x, args, state, "train")
        V.output_of(got, args, out_shape(x, args))
        want = oracle(x, args, state, "train")["state_after"]
        for k, v in want.items():
            if "running" in k or "num_batches" in k:
                expect_close(got["state_after"].get(k), v,
                             "each batch norm sees its own input once per forward pass and updates its running "
                             "statistics (momentum 0.1)", what=f"{k} after one forward pass of {V.block_name(args)}")


@check("gradients w.r.t. x and every parameter agree with torch layers (training mode)", points=2)
def gradients_agree(run):
    for i, args in enumerate(CONFIGS):
        x, state = data(args, 60 + i), random_state(args, 70 + i)
        upstream = torch.randn(out_shape(x, args), generator=torch.Generator().manual_seed(80 + i))
        got = run(V.forward, x, args, state, "train", upstream)
        V.output_of(got, args, out_shape(x, args))
        want = oracle(x, args, state, "train", upstream)["grads"]
        for k, v in want.items():
            expect_close(got["grads"].get(k), v, "the block is differentiable end to end: the gradient flows "
                         "through the branch and through the shortcut", rtol=1e-3, atol=1e-4,
                         what=f"gradient of {'the input x' if k == 'x' else k} ({V.block_name(args)})")


@check("the skip carries the gradient: with zero conv weights, dL/dx = upstream wherever x + bn2.bias > 0")
def gradient_through_skip(run):
    args = [8]
    x = data(args, 90)
    state = random_state(args, 91, zero_convs=True)
    upstream = torch.randn(x.shape, generator=torch.Generator().manual_seed(92))
    got = run(V.forward, x, args, state, "train", upstream)
    V.output_of(got, args, x.shape)
    # The branch is the constant bn2.bias, whose gradient w.r.t. x is 0: only the identity path is left.
    want = upstream * ((x + state["bn2.bias"].view(1, -1, 1, 1)) > 0)
    grad = got["grads"].get("x")
    if isinstance(grad, torch.Tensor) and grad.shape == x.shape and not grad.any():
        raise Fail("the identity shortcut passes the upstream gradient straight to x",
                   "x.grad is all zeros: no gradient reached the input through the skip connection")
    expect_close(grad, want, "out = relu(branch + x): where out > 0 the upstream gradient reaches x unchanged "
                             "through the skip, even when the branch contributes nothing", what="x.grad")


@check("odd and tiny spatial sizes: H_out = (H - 1) // stride + 1 (e.g. 7x9 -> 4x5, 1x1 -> 1x1)")
def odd_sizes(run):
    for shape, args in (((2, None, 7, 9), [4, 8, 2]), ((5, None, 1, 1), [4, 4, 2]), ((3, None, 5, 2), [4, 6, 1])):
        x, state = data(args, 100, shape), random_state(args, 101)
        got = run(V.forward, x, args, state, "train")
        want = oracle(x, args, state, "train")
        expect_close(V.output_of(got, args, out_shape(x, args)), want["out"],
                     "padding=1 for the 3x3 convolutions and the same stride on conv1 and on the projection "
                     "keep the two paths the same shape", rtol=1e-4, atol=1e-4,
                     what=f"output for input {list(x.shape)}, {V.block_name(args)}")
