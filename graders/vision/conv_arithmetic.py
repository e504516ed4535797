"""Hidden graders of vision/conv_arithmetic: output sizes against real torch layers run on dummy
tensors (nn.Conv2d, nn.ConvTranspose2d, nn.MaxPool2d, floor and ceil mode), the invalid
configurations torch rejects, and receptive fields against a brute force through autograd:
which input pixels get a gradient from one output pixel of a stack of all-ones convs."""
import itertools

import torch
import torch.nn.functional as F
from torch import nn

from mlkata.checks import check, expect, expect_close, expect_equal, visible_module

V = visible_module("vision/conv_arithmetic")


def torch_size(kind, case):
    """Output height of the torch layer on a dummy [1, 1, size, 1] input; 'error' if torch refuses."""
    c = dict(case)
    size = c.pop("size")
    k = (c.pop("kernel_size"), 1)
    s = c.pop("stride", 1 if kind != "pool" else None)
    p, d = c.pop("padding", 0), c.pop("dilation", 1)
    if kind == "conv":
        layer = nn.Conv2d(1, 1, k, (s, 1), (p, 0), (d, 1), bias=False)
    elif kind == "transposed":
        layer = nn.ConvTranspose2d(1, 1, k, (s, 1), (p, 0), (c.pop("output_padding", 0), 0), dilation=(d, 1),
                                   bias=False)
    else:
        layer = nn.MaxPool2d(k, None if s is None else (s, 1), (p, 0), (d, 1), ceil_mode=c.pop("ceil_mode", False))
    try:
        with torch.no_grad():
            return layer(torch.zeros(1, 1, size, 1)).shape[2]
    except RuntimeError:
        return "error"


def grid(**axes):
    keys = list(axes)
    return [dict(zip(keys, values)) for values in itertools.product(*axes.values())]


def agree(run, fn_name, kind, cases, rule, errors=False):
    """Compare on the cases torch accepts (or, with ``errors``, on those it rejects)."""
    want = [torch_size(kind, c) for c in cases]
    keep = [(c, w) for c, w in zip(cases, want) if (w == "error") == errors]
    cases, want = [c for c, _ in keep], [w for _, w in keep]
    got = run(V.sizes, fn_name, cases)
    expect(isinstance(got, list) and len(got) == len(cases), rule, "one result per case was expected")
    for g, case, w in zip(got, cases, want):
        call = f"{fn_name}({V.fmt(case)})"
        if w == "error":
            expect(g.get("raised") == "ValueError", rule,
                   f"{call}: torch rejects this configuration, so a ValueError was expected; your code "
                   + (f"raised {g['raised']}" if "raised" in g else f"returned {g.get('value')!r}"))
        else:
            expect_equal(V.value_of(g), w, rule, what=call)


def transposed(cases):
    return [dict(c, transposed=True) for c in cases]


@check("conv_output_size agrees with nn.Conv2d on a grid of sizes, kernels, strides, paddings and dilations", points=2)
def conv_agrees(run):
    cases = grid(size=[1, 2, 5, 8, 13], kernel_size=[1, 2, 3, 5], stride=[1, 2, 3], padding=[0, 1, 2, 4],
                 dilation=[1, 2, 3])
    agree(run, "conv_output_size", "conv", cases,
          "out = (size + 2*padding - dilation*(kernel_size - 1) - 1) // stride + 1 (floor division)")


@check("conv_output_size(transposed=True) agrees with nn.ConvTranspose2d, output_padding included", points=2)
def transposed_agrees(run):
    cases = grid(size=[1, 2, 5, 8], kernel_size=[1, 2, 3, 4], stride=[1, 2, 3], padding=[0, 1, 2],
                 output_padding=[0, 1, 2], dilation=[1, 2])
    agree(run, "conv_output_size", "transposed", transposed(cases),
          "transposed: out = (size - 1)*stride - 2*padding + dilation*(kernel_size - 1) + output_padding + 1")


@check("pool_output_size agrees with nn.MaxPool2d in floor mode, stride=None included")
def pool_floor_agrees(run):
    cases = grid(size=[1, 2, 3, 6, 7, 11], kernel_size=[1, 2, 3, 4, 5], stride=[None, 1, 2, 3], padding=[0, 1, 2],
                 dilation=[1, 2])
    agree(run, "pool_output_size", "pool", cases,
          "floor((size + 2*padding - dilation*(kernel_size - 1) - 1) / stride) + 1; stride=None means kernel_size")


@check("pool_output_size agrees with nn.MaxPool2d in ceil mode, where the last window must start inside", points=2)
def pool_ceil_agrees(run):
    cases = grid(size=[1, 2, 3, 4, 5, 6, 7, 9, 11], kernel_size=[1, 2, 3, 4, 5], stride=[None, 1, 2, 3, 4],
                 padding=[0, 1, 2], dilation=[1, 2], ceil_mode=[True])
    agree(run, "pool_output_size", "pool", cases,
          "ceil_mode rounds the division up, then drops the last window if it starts at or after size + padding "
          "(entirely inside the right padding)")


@check("the classic ceil_mode trap: size 5, kernel 2, stride 2, padding 1 gives 3 windows, not 4")
def ceil_trap(run):
    cases = [dict(size=5, kernel_size=2, stride=2, padding=1, ceil_mode=True),
             dict(size=6, kernel_size=2, stride=4, padding=1, ceil_mode=True),
             dict(size=13, kernel_size=3, stride=2, padding=1, ceil_mode=True)]
    agree(run, "pool_output_size", "pool", cases,
          "in ceil_mode a window that would start in the right padding is not counted")


@check("invalid configurations raise ValueError, exactly where torch refuses them", points=2)
def invalid_raise(run):
    conv = grid(size=[1, 2, 3], kernel_size=[3, 5], stride=[1, 2], padding=[0, 1], dilation=[1, 2])
    agree(run, "conv_output_size", "conv", conv,
          "a conv whose dilated kernel is longer than the padded input raises ValueError", errors=True)
    tconv = grid(size=[1, 2], kernel_size=[1, 3], stride=[1, 2], padding=[0, 1, 2], output_padding=[0, 1, 2],
                 dilation=[1, 2])
    agree(run, "conv_output_size", "transposed", transposed(tconv),
          "a transposed conv raises ValueError when output_padding >= both stride and dilation, or when the "
          "output would be shorter than 1", errors=True)
    pool = grid(size=[1, 2, 4], kernel_size=[1, 2, 3, 4], stride=[None, 2], padding=[0, 1, 2, 3], dilation=[1, 2],
                ceil_mode=[False, True])
    agree(run, "pool_output_size", "pool", pool,
          "max pooling raises ValueError when padding > kernel_size // 2 or the output would be shorter than 1",
          errors=True)


# ---------------------------------------------------------------------------------------------
# Receptive fields
# ---------------------------------------------------------------------------------------------

def brute_force_field(layers, n=1024):
    """(rf, jump, start) measured with autograd: run the stack as all-ones 1-D convs on a long
    input and see which input pixels receive gradient from two neighbouring outputs in the middle."""
    x = torch.zeros(1, 1, n, dtype=torch.float64, requires_grad=True)
    y = x
    for layer in layers:
        k = layer["kernel_size"]
        y = F.conv1d(y, torch.ones(1, 1, k, dtype=torch.float64), stride=layer.get("stride", 1),
                     padding=layer.get("padding", 0), dilation=layer.get("dilation", 1))
    i = y.shape[-1] // 2
    spans = []
    for j in (i, i + 1):
        (grad,) = torch.autograd.grad(y[0, 0, j], x, retain_graph=True)
        hit = grad[0, 0].nonzero().flatten()
        first, last = int(hit[0]), int(hit[-1])
        assert 0 < first and last < n - 1, "the brute force's input is too short for this stack"
        spans.append((first, last))
    (f0, l0), (f1, _) = spans
    jump = f1 - f0
    return [l0 - f0 + 1, jump, (f0 + l0) / 2 - i * jump]


def random_stack(seed):
    g = torch.Generator().manual_seed(seed)
    pick = lambda lo, hi: int(torch.randint(lo, hi + 1, (1,), generator=g))  # noqa: E731
    layers = []
    for _ in range(pick(1, 6)):
        layer = {"kernel_size": pick(1, 5)}
        for key, lo, hi in (("stride", 1, 2), ("padding", 0, 2), ("dilation", 1, 3)):
            if pick(0, 2):                                   # keys are optional: defaults must be used
                layer[key] = pick(lo, hi)
        layers.append(layer)
    return layers


def agree_fields(run, stacks, rule, keys=(0, 1, 2)):
    want = [brute_force_field(s) for s in stacks]
    got = run(V.fields, stacks)
    expect(isinstance(got, list) and len(got) == len(stacks), rule, "one result per stack was expected")
    names = ("rf", "jump", "start")
    for g, w, layers in zip(got, want, stacks):
        expect(isinstance(g, (list, tuple)) and len(g) == 3, "receptive_field returns a tuple (rf, jump, start)",
               f"for {layers} your code returned {g!r}"[:300])
        for k in keys:
            expect_close(g[k], w[k], rule, atol=1e-9, what=f"{names[k]} of the stack {layers}")


@check("receptive field size and jump agree with an autograd brute force on 20 random stacks", points=2)
def rf_and_jump(run):
    agree_fields(run, [random_stack(s) for s in range(20)],
                 "rf = 1 + sum over layers of dilation*(k - 1) * (product of the strides before it); "
                 "jump = product of all strides", keys=(0, 1))


@check("the centre of output 0's window (start) agrees with the brute force, padding and even kernels included",
       points=2)
def rf_start(run):
    agree_fields(run, [random_stack(s) for s in range(100, 120)],
                 "start moves by ((span - 1) / 2 - padding) * jump at each layer (jump of the layers before it)",
                 keys=(2,))


@check("known stacks: ResNet stem (7x7/2 conv + 3x3/2 pool) sees 11 pixels, jump 4; the empty stack sees 1")
def known_stacks(run):
    stacks = [[{"kernel_size": 7, "stride": 2, "padding": 3}, {"kernel_size": 3, "stride": 2, "padding": 1}],
              [], [{"kernel_size": 3}] * 5, [{"kernel_size": 3, "dilation": 2 ** i, "padding": 2 ** i} for i in range(4)]]
    want = [[11, 4, 0.0], [1, 1, 0.0], [11, 1, 5.0], [31, 1, 0.0]]
    got = run(V.fields, stacks)
    for g, w, layers in zip(got, want, stacks):
        expect_close(g, w, "rf, jump and start of a well-known stack (the empty stack is the identity: 1, 1, 0.0)",
                     what=f"(rf, jump, start) of {layers}")
