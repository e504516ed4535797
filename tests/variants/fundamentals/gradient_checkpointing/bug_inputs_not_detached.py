# BUG: recomputes from the saved inputs themselves instead of detached copies, so the inner backward also runs into the outer graph (gradients counted twice).
"""Gradient checkpointing: trade compute for memory by recomputing activations in the backward pass.

Backpropagation needs the activations of the forward pass, so a plain training step keeps every
intermediate tensor of every layer alive until the backward pass reaches it: memory grows with
depth times batch times sequence length.  Gradient checkpointing (Chen et al., "Training Deep Nets
with Sublinear Memory Cost", 2016) keeps only the inputs of chosen segments; in the backward pass
each segment is run forward AGAIN, this time recording the graph, and backpropagated at once.
With sqrt(L) segments of sqrt(L) layers, activation memory drops from O(L) to O(sqrt(L)) for about
one extra forward pass.  Every large-model training stack uses it.

Implement ``torch.utils.checkpoint.checkpoint`` (the "reentrant" variant: a custom
``torch.autograd.Function``) and ``checkpoint_sequential`` without calling them.  The forward runs
under ``torch.no_grad()`` and saves only the inputs; the backward recomputes with gradients on,
with the same random numbers (dropout!), and backpropagates the incoming gradient.
"""
from typing import Callable, Sequence

import torch
import torch.nn as nn


class CheckpointFunction(torch.autograd.Function):
    """``CheckpointFunction.apply(run_function, *inputs)``: ``run_function(*inputs)`` -> one tensor.

    forward(ctx, run_function, *inputs):
        Remember ``run_function`` and the CPU random-number state (``torch.get_rng_state()``), save
        the inputs (``ctx.save_for_backward``: only they are kept), and return
        ``run_function(*inputs)`` computed under ``torch.no_grad()`` -- no graph, no activations.

    backward(ctx, grad_output):
        Recompute: detach each saved input (keeping its ``requires_grad``), set the remembered RNG
        state (restoring the current one afterwards, so the caller's random stream is untouched),
        run ``run_function`` with gradients enabled, and backpropagate ``grad_output`` through that
        recomputed graph (``torch.autograd.backward``): gradients of parameters used inside
        ``run_function`` accumulate into their ``.grad`` there.  Return ``None`` for
        ``run_function`` and, for each input, its gradient (None for inputs that do not require
        grad or are not tensors).
    """

    @staticmethod
    def forward(ctx, run_function: Callable[..., torch.Tensor], *inputs):
        ctx.run_function = run_function
        ctx.rng_state = torch.get_rng_state()
        ctx.save_for_backward(*inputs)
        with torch.no_grad():
            return run_function(*inputs)

    @staticmethod
    def backward(ctx, grad_output: torch.Tensor):
        inputs = list(ctx.saved_tensors)
        current = torch.get_rng_state()
        torch.set_rng_state(ctx.rng_state)                      # the forward pass's random numbers
        try:
            with torch.enable_grad():
                output = ctx.run_function(*inputs)
        finally:
            torch.set_rng_state(current)
        torch.autograd.backward(output, grad_output)
        return (None, *[t.grad if isinstance(t, torch.Tensor) and t.requires_grad else None for t in inputs])


def checkpoint(run_function: Callable[..., torch.Tensor], *inputs: torch.Tensor) -> torch.Tensor:
    """``run_function(*inputs)`` with its activations recomputed in the backward pass.  At least one
    input must require grad (otherwise the result carries no graph, as with torch's reentrant
    checkpoint)."""
    return CheckpointFunction.apply(run_function, *inputs)


def checkpoint_sequential(functions: Sequence[nn.Module], segments: int, x: torch.Tensor) -> torch.Tensor:
    """Apply ``functions`` in order to ``x``, checkpointing all segments but the last
    (``torch.utils.checkpoint.checkpoint_sequential``'s segmentation).

    With ``n = len(functions)`` and ``size = n // segments``: the first ``segments - 1`` segments
    are ``functions[0:size]``, ``functions[size:2*size]``, ... each run through ``checkpoint``; the
    last segment -- everything left, ``functions[(segments - 1) * size:]`` -- runs normally (its
    activations are needed right away by the backward pass anyway).  ``1 <= segments <= n``.
    """
    size = len(functions) // segments

    def run(start: int, end: int) -> Callable[[torch.Tensor], torch.Tensor]:
        def forward(inp: torch.Tensor) -> torch.Tensor:
            for f in functions[start:end]:
                inp = f(inp)
            return inp
        return forward

    for start in range(0, size * (segments - 1), size):
        x = checkpoint(run(start, start + size), x)
    return run(size * (segments - 1), len(functions))(x)
