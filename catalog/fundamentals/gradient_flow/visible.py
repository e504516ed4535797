"""Visible checks: the MLP's structure, gradient norms on a tiny network, the vanishing test,
and the phenomenon itself in a 10-layer sigmoid network."""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from mlkata.checks import Fail, check, describe, expect, expect_close, expect_equal, probe


def build_model(spec):
    """An nn.Sequential from a spec: ("Linear", in, out), ("Sigmoid",), ("ReLU",), ("LayerNorm", d)."""
    make = {"Linear": lambda a: nn.Linear(*a), "Sigmoid": lambda a: nn.Sigmoid(), "ReLU": lambda a: nn.ReLU(),
            "Tanh": lambda a: nn.Tanh(), "LayerNorm": lambda a: nn.LayerNorm(*a)}
    return nn.Sequential(*[make[kind](args) for kind, *args in spec])


def spec_of(types, state):
    """The spec of a model from its module type names and its state_dict."""
    spec = []
    for i, kind in enumerate(types):
        if kind == "Linear":
            out_f, in_f = state[f"{i}.weight"].shape
            spec.append(("Linear", in_f, out_f))
        elif kind == "LayerNorm":
            spec.append(("LayerNorm", state[f"{i}.weight"].shape[0]))
        else:
            spec.append((kind,))
    return spec


@probe
def build(sub, args, kwargs=None, seed=None, global_seed=0):
    """make_mlp(*args, **kwargs, generator=...): the module types and the state_dict."""
    torch.manual_seed(global_seed)
    gen = None if seed is None else torch.Generator().manual_seed(seed)
    m = sub.make_mlp(*args, generator=gen, **(kwargs or {}))
    return {"is_sequential": isinstance(m, nn.Sequential), "types": [type(c).__name__ for c in m.children()],
            "state": dict(m.state_dict())}


@probe
def norms(sub, spec, state, x, target, stale=False):
    """layer_grad_norms on a model built from ``spec``/``state`` (with leftover .grad if ``stale``);
    also report which parameters changed."""
    model = build_model(spec)
    model.load_state_dict(state)
    if stale:
        for p in model.parameters():
            p.grad = torch.full_like(p, 7.0)
    got = sub.layer_grad_norms(model, x, target)
    changed = [k for k, v in model.state_dict().items() if not torch.equal(v, state[k])]
    return {"norms": got, "changed": changed}


@probe
def pipeline(sub, args, kwargs, x, target, seed, threshold=1e-3):
    """make_mlp -> layer_grad_norms -> gradients_vanish, all with the learner's code."""
    m = sub.make_mlp(*args, generator=torch.Generator().manual_seed(seed), **kwargs)
    types = [type(c).__name__ for c in m.children()]
    state = {k: v.clone() for k, v in m.state_dict().items()}
    got = sub.layer_grad_norms(m, x, target)
    return {"types": types, "state": state, "norms": got, "vanish": sub.gradients_vanish(got, threshold)}


@probe
def raises_value_error(sub, args, kwargs):
    """The name of the exception make_mlp raises (None if nothing is raised)."""
    try:
        sub.make_mlp(*args, **kwargs)
    except NotImplementedError:
        raise
    except Exception as e:  # noqa: BLE001 - reported back to the check
        return type(e).__name__
    return None


def oracle_norms(spec, state, x, target):
    model = build_model(spec)
    model.load_state_dict(state)
    F.mse_loss(model(x), target).backward()
    return [m.weight.grad.norm().item() for m in model if isinstance(m, nn.Linear)]


def as_norms(got, n_linear, what="layer_grad_norms"):
    """Judge side: a list of n_linear floats (a 1-D tensor is accepted too)."""
    rule = "layer_grad_norms returns one float per nn.Linear layer (its weight gradient's norm), first layer first"
    if isinstance(got, torch.Tensor) and got.dim() == 1:
        got = got.tolist()
    if not isinstance(got, (list, tuple)):
        raise Fail(rule, f"{what}: expected a list of {n_linear} floats, your code returned {describe(got)}")
    if len(got) != n_linear:
        extra = " (biases or other modules' weights included?)" if len(got) > n_linear else ""
        raise Fail(rule, f"{what}: the model has {n_linear} Linear layers, your code returned {len(got)} norms{extra}")
    return [float(v.item()) if isinstance(v, torch.Tensor) and v.numel() == 1 else v for v in got]


def expect_norms(got, want, what):
    """Judge side: the learner's norms equal the oracle's (relative tolerance only: norms can be tiny)."""
    got = as_norms(got, len(want), what)
    if len(want) > 1 and want[0] != want[-1]:
        try:
            reversed_ok = all(abs(g - w) <= 1e-3 * abs(w) for g, w in zip(got, reversed(want)))
        except TypeError:
            reversed_ok = False
        if reversed_ok:
            raise Fail("list the norms from the first layer (next to the input) to the last",
                       f"{what}: your list is in reverse order: {['%.3g' % g for g in got]}")
    expect_close(got, want, "norm i = the Frobenius norm of dLoss/dW of the i-th nn.Linear, with "
                            "loss = F.mse_loss(model(x), target) (mean over all elements)",
                 rtol=1e-3, atol=0, what=what)


def expect_types(got, want, rule, what):
    if got != want:
        raise Fail(rule, f"{what}: expected the modules {want}, your code built {got}"[:600])


def as_bool(got, rule, what):
    if isinstance(got, torch.Tensor) and got.numel() == 1 and got.dtype == torch.bool:
        got = bool(got)
    if not isinstance(got, bool):
        raise Fail(rule, f"{what}: expected a bool, your code returned {describe(got)}")
    return got


TINY = [("Linear", 3, 4), ("Sigmoid",), ("Linear", 4, 2)]
TINY_STATE = {"0.weight": torch.tensor([[0.5, -1.0, 0.25], [1.0, 0.5, -0.5], [-0.25, 0.75, 1.0], [0.1, 0.2, 0.3]]),
              "0.bias": torch.tensor([0.1, -0.1, 0.0, 0.2]),
              "2.weight": torch.tensor([[1.0, -1.0, 0.5, 0.25], [-0.5, 0.5, 1.0, -1.0]]),
              "2.bias": torch.tensor([0.0, 0.5])}
TINY_X = torch.tensor([[1.0, 2.0, -1.0], [0.5, -0.5, 2.0]])
TINY_T = torch.tensor([[1.0, 0.0], [0.0, 1.0]])


@check("make_mlp(3, 5, 2, depth=3, activation='relu', init='he') is Linear(3,5), ReLU, Linear(5,5), ReLU, "
       "Linear(5,2) with zero biases")
def structure(run):
    got = run(build, [3, 5, 2, 3], {"activation": "relu", "init": "he"}, seed=0)
    rule = "make_mlp returns nn.Sequential(Linear, act, ..., Linear): depth Linear layers, an activation between them"
    expect(got["is_sequential"], rule, "the returned model is not an nn.Sequential")
    expect_types(got["types"], ["Linear", "ReLU", "Linear", "ReLU", "Linear"], rule, "make_mlp(3, 5, 2, 3, 'relu')")
    shapes = {k: list(v.shape) for k, v in got["state"].items()}
    expect_equal(shapes, {"0.weight": [5, 3], "0.bias": [5], "2.weight": [5, 5], "2.bias": [5],
                          "4.weight": [2, 5], "4.bias": [2]}, "sizes in_features -> width -> width -> out_features",
                 what="state_dict shapes")
    for k in ("0.bias", "2.bias", "4.bias"):
        expect_equal(got["state"][k], torch.zeros(shapes[k]), "every bias starts at 0", what=k)
    for k, fan_in in (("0.weight", 3), ("2.weight", 5), ("4.weight", 5)):
        w, std = got["state"][k], math.sqrt(2 / fan_in)
        expect(w.unique().numel() == w.numel() and bool((w.abs() < 6 * std).all()),
               "he init draws every weight at random from N(0, 2 / fan_in): distinct values, within 6 std of 0",
               f"{k}: {w.tolist()} (std = sqrt(2 / {fan_in}) = {std:.4g})")


@check("layer_grad_norms of a 2-layer sigmoid network equals the norms autograd gives")
def tiny_norms(run):
    got = run(norms, TINY, TINY_STATE, TINY_X, TINY_T)
    expect_norms(got["norms"], oracle_norms(TINY, TINY_STATE, TINY_X, TINY_T), "norms")


@check("gradients_vanish: True exactly when norms[0] / norms[-1] < threshold")
def vanish_rule(run):
    rule = "gradients_vanish(norms, threshold) is norms[0] / norms[-1] < threshold, a bool"
    for norms_, threshold, want in (([1e-6, 1e-3, 1.0], 1e-3, True), ([0.5, 2.0, 1.0], 1e-3, False),
                                    ([0.01, 1.0], 0.1, True), ([0.01, 1.0], 1e-3, False)):
        got = as_bool(run("gradients_vanish", norms_, threshold), rule, f"gradients_vanish({norms_}, {threshold})")
        expect_equal(got, want, rule, what=f"gradients_vanish({norms_}, {threshold})")


@check("a 10-layer sigmoid network with Xavier init: the first layer's gradient is < 1e-4 of the last layer's")
def sigmoid_vanishes(run):
    g = torch.Generator().manual_seed(0)
    x, t = torch.randn(64, 32, generator=g), torch.randn(64, 8, generator=g)
    got = run(pipeline, [32, 64, 8, 10], {"activation": "sigmoid", "init": "xavier"}, x, t, seed=1)
    n = as_norms(got["norms"], 10)
    ratio = n[0] / n[-1] if n[-1] else float("inf")
    expect(ratio < 1e-4, "in a deep sigmoid network the gradient shrinks at every layer on its way back",
           f"first / last gradient norm = {ratio:.3g}; norms: {['%.2g' % v for v in n]}")
    expect(as_bool(got["vanish"], "gradients_vanish returns a bool", "gradients_vanish") is True,
           "gradients_vanish says True for this network", f"norms: {['%.2g' % v for v in n]}")
