"""Hidden graders of fundamentals/gradient_checkpointing: gradients through checkpoint equal the
plain run's for random depths and widths (tests/test_twins_* compares with torch.utils.checkpoint
itself); the forward saves only the inputs and the backward recomputes once; dropout inside
draws the same masks and the caller's random stream is left as the plain run leaves it; inputs
that need no gradient; checkpoint_sequential's segmentation for several sizes."""
import copy

import torch

from mlkata.checks import check, expect, expect_close, expect_equal, probe, visible_module

V = visible_module("fundamentals/gradient_checkpointing")


@probe
def two_inputs(sub, layer, x, scale):
    """checkpoint(lambda x, s: layer(x) * s, x, s) with s not requiring grad; gradients of sum."""
    x = x.detach().clone().requires_grad_(True)
    y = sub.checkpoint(lambda a, s: layer(a) * s, x, scale)
    y.sum().backward()
    return {"y": y.detach(), "x_grad": x.grad, "param_grads": [layer.weight.grad, layer.bias.grad],
            "requires_grad": bool(y.requires_grad)}


@probe
def rng_after(sub, layers, x, how, seed):
    """Run as V.run_stack with the RNG seeded, then report a draw from the global stream."""
    report = V.run_stack.fn(sub, layers, x, how, segments=2 if how == "sequential" else None, rng_seed=seed)
    report["next_draw"] = torch.rand(3, dtype=torch.float64)
    return report


def inputs(seed, B, W):
    return torch.randn(B, W, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


@check("checkpoint: gradients equal the plain run's for random depths and widths", points=2)
def checkpoint_random(run):
    for s, (n, W, B) in enumerate([(1, 3, 2), (4, 5, 3), (6, 2, 4)]):
        layers, x = V.stack(n, W, seed=10 * s), inputs(s, B, W)
        got = run(V.run_stack, layers, x, "checkpoint")
        V.expect_same_gradients(got, V.plain(layers, x), f"{n} layers of width {W}, batch {B}")


@check("the forward saves only the inputs, and each layer runs exactly once more in the backward")
def memory_and_recompute(run):
    layers, x = V.stack(6, 8, seed=40), inputs(41, 5, 8)
    got = run(V.run_stack, layers, x, "checkpoint")
    expect(got["saved"] <= x.numel(), "the forward runs under torch.no_grad() and saves only its inputs",
           f"{got['saved']} elements were saved for backward; the input has {x.numel()} (a plain run saves "
           "every layer's activations)")
    expect_equal([got["calls_forward"], got["calls_backward"]], [[1] * 6, [2] * 6], "one forward run, one "
                 "recomputation in the backward pass", what="[calls per layer after forward, after backward]")
    V.expect_same_gradients(got, V.plain(layers, x), "6 layers of width 8")


@check("dropout inside: the recomputation draws the same masks, and the caller's random stream is untouched",
       points=2)
def random_state(run):
    layers, x = V.stack(3, 6, seed=50, dropout=0.5), inputs(51, 4, 6)
    for how in ("checkpoint", "sequential"):
        got = run(rng_after, layers, x, how, 52)
        want = V.plain(layers, x, rng_seed=52)
        want_next = torch.rand(3, dtype=torch.float64)           # the plain run's stream, continued
        V.expect_same_gradients(got, want, f"dropout 0.5, {how}: the backward must restore the forward's RNG "
                                "state (torch.get_rng_state / set_rng_state) before recomputing")
        expect_close(got["next_draw"], want_next, "after the recomputation restore the RNG state that was current "
                     "before it, so the training loop's random numbers continue as without checkpointing",
                     rtol=0, atol=0, what=f"the next three draws of the global generator ({how})")


@check("an input that needs no gradient gets None, the others still get theirs")
def input_without_grad(run):
    layer, x = V.Counted(4, 60), inputs(61, 3, 4)
    scale = torch.tensor(2.5, dtype=torch.float64)
    got = run(two_inputs, layer, x, scale)
    ref_layer = copy.deepcopy(layer)
    xl = x.clone().requires_grad_(True)
    (ref_layer(xl) * scale).sum().backward()
    expect(got["requires_grad"], "the output of checkpoint requires grad when an input does",
           "the output does not require grad")
    expect_close([got["y"], got["x_grad"], got["param_grads"]],
                 [(ref_layer(x) * scale).detach(), xl.grad, [ref_layer.weight.grad, ref_layer.bias.grad]],
                 "return a gradient for each input that requires grad and None for the others (a constant "
                 "tensor, here)", rtol=1e-8, atol=1e-12, what="[output, input gradient, parameter gradients]")


@check("checkpoint_sequential: torch's segmentation for several sizes, gradients equal", points=2)
def sequential_random(run):
    for s, (n, segments) in enumerate([(5, 2), (6, 3), (4, 1), (4, 4), (9, 4)]):
        layers, x = V.stack(n, 3, seed=70 + 10 * s), inputs(80 + s, 2, 3)
        got = run(V.run_stack, layers, x, "sequential", segments=segments)
        size = n // segments
        want_calls = [2] * (size * (segments - 1)) + [1] * (n - size * (segments - 1))
        expect_equal(got["calls_backward"], want_calls, "size = n // segments; the first segments - 1 chunks of size "
                     "layers are checkpointed (they run twice), the rest runs once", what=f"calls per layer after "
                     f"backward ({n} layers, {segments} segments)")
        V.expect_same_gradients(got, V.plain(layers, x), f"{n} layers, {segments} segments")
