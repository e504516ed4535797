"""fundamentals/gradient_checkpointing: the reference behaves like torch.utils.checkpoint's
reentrant checkpoint and checkpoint_sequential -- same outputs and gradients (dropout included,
the RNG state preserved), the same elements saved for backward, the same recomputations per
layer, and the same random stream afterwards."""
import copy

import pytest
import torch
import torch.utils.checkpoint as tc

from mlkata import catalog, grading
from mlkata.engine import load_module
from helpers import ROOT

EX = catalog.get("fundamentals/gradient_checkpointing")


@pytest.fixture(scope="module")
def ref():
    return load_module(str(ROOT / "solutions" / "fundamentals" / "gradient_checkpointing.py"), "twin_ref_ckpt")


@pytest.fixture(scope="module")
def grader():
    return grading.check_module("hidden", EX)


def run(layers, x, apply):
    x = x.clone().requires_grad_(True)
    torch.random.default_generator.manual_seed(3)
    saved = {"n": 0}

    def pack(t):
        saved["n"] += t.numel()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        y = apply(layers, x)
    y.sum().backward()
    return y.detach(), x.grad, [l.weight.grad for l in layers], [l.calls for l in layers], saved["n"], torch.rand(2)


def whole(layers):
    def f(inp):
        for layer in layers:
            inp = layer(inp)
        return inp
    return f


@pytest.mark.parametrize("dropout", [0.0, 0.3])
def test_checkpoint_matches_torch_reentrant(ref, grader, dropout):
    layers = grader.V.stack(4, 5, seed=1, dropout=dropout)
    x = grader.inputs(2, 3, 5)
    mine = run(copy.deepcopy(layers), x, lambda ls, inp: ref.checkpoint(whole(ls), inp))
    theirs = run(copy.deepcopy(layers), x, lambda ls, inp: tc.checkpoint(whole(ls), inp, use_reentrant=True))
    for a, b in zip(mine, theirs):
        if isinstance(a, list) and a and isinstance(a[0], int):
            assert a == b
        else:
            torch.testing.assert_close(a, b)


@pytest.mark.parametrize("n,segments", [(5, 2), (6, 3), (4, 1), (4, 4), (9, 4)])
def test_checkpoint_sequential_matches_torch(ref, grader, n, segments):
    layers = grader.V.stack(n, 3, seed=n)
    x = grader.inputs(n, 2, 3)
    mine = run(copy.deepcopy(layers), x, lambda ls, inp: ref.checkpoint_sequential(ls, segments, inp))
    theirs = run(copy.deepcopy(layers), x,
                 lambda ls, inp: tc.checkpoint_sequential(torch.nn.Sequential(*ls), segments, inp, use_reentrant=True))
    torch.testing.assert_close(mine[0], theirs[0])
    torch.testing.assert_close(mine[1], theirs[1])
    assert mine[3] == theirs[3] and mine[4] == theirs[4]
