"""Ring all-reduce: how data-parallel training sums its gradients.

After each backward pass, every one of ``W`` workers holds its own gradient and needs the sum
of all ``W``.  Sending everything to one worker costs that worker ``(W - 1) N`` values of
traffic.  The *ring* all-reduce (Patarasuk & Yuan, 2009; Baidu, Horovod, NCCL) puts the workers
on a ring, cuts each buffer into ``W`` chunks and only ever talks to the right neighbour:

1. **reduce-scatter**, ``W - 1`` steps: at step ``s`` every rank ``r`` sends its chunk
   ``(r - s) mod W`` to rank ``(r + 1) mod W``, which adds it into its own copy of that chunk.
   Each chunk travels once around the ring collecting every rank's contribution, so after
   ``W - 1`` steps rank ``r`` holds the complete sum of chunk ``(r + 1) mod W``.
2. **all-gather**, ``W - 1`` steps: at step ``s`` every rank ``r`` sends chunk
   ``(r + 1 - s) mod W`` -- complete by then -- to rank ``(r + 1) mod W``, which overwrites its
   copy.  Afterwards every rank holds every complete chunk.

Every rank sends ``2 (W - 1)`` chunks, about ``2 N (W - 1) / W`` values whatever ``W`` is: the
all-reduce is bandwidth-optimal.  All sends of a step happen at the same time, so a rank always
sends what it held before the step.

Simulate it: ranks are a list of 1-D tensors, a send is a tensor copy.  Chunks follow
``torch.tensor_split``: the first ``N mod W`` chunks have one element more (chunks are empty
when ``N < W``).  The library twin is ``torch.distributed.all_reduce`` / ``reduce_scatter`` /
``all_gather`` on gloo processes (tests/test_twins_systems_ring_allreduce.py).
"""
from typing import Dict, List, Tuple

import torch

Log = List[List[Tuple[int, int, int]]]          # log[step][rank] = (src, dst, chunk index)


def chunk_bounds(numel: int, world: int) -> List[Tuple[int, int]]:
    """``[(start, end)]`` of the ``world`` chunks of ``numel`` elements, as ``torch.tensor_split``
    cuts them: the first ``numel % world`` chunks hold ``numel // world + 1`` elements, the
    others ``numel // world`` (possibly 0)."""
    ### BEGIN SOLUTION
    base, extra = divmod(numel, world)
    bounds, start = [], 0
    for c in range(world):
        end = start + base + (1 if c < extra else 0)
        bounds.append((start, end))
        start = end
    return bounds
    ### END SOLUTION


def ring_reduce_scatter(buffers: List[torch.Tensor]) -> Tuple[List[torch.Tensor], Log]:
    """The reduce-scatter phase.

    Args:
        buffers: ``W >= 1`` 1-D tensors of one length ``N`` and dtype, ``buffers[r]`` on rank ``r``.

    Returns:
        ``(after, log)``: ``after[r]`` is rank ``r``'s whole buffer after the ``W - 1`` steps (new
        tensors; the inputs are not modified) -- chunk ``(r + 1) mod W`` is the sum over all ranks,
        the other chunks hold whatever partial sums the algorithm left there; ``log[s][r] =
        (r, (r + 1) mod W, (r - s) mod W)`` lists the sends of step ``s`` in rank order.  Every
        send of a step uses the values from before the step.  ``W = 1``: copies and ``[]``.
    """
    ### BEGIN SOLUTION
    W = len(buffers)
    bounds = chunk_bounds(buffers[0].numel(), W)
    bufs = [b.clone() for b in buffers]
    log = []
    for s in range(W - 1):
        sends = [(r, (r + 1) % W, (r - s) % W) for r in range(W)]
        payload = [bufs[src][slice(*bounds[c])].clone() for src, _, c in sends]   # read before anyone writes
        for (src, dst, c), chunk in zip(sends, payload):
            bufs[dst][slice(*bounds[c])] += chunk
        log.append(sends)
    return bufs, log
    ### END SOLUTION


def ring_all_gather(buffers: List[torch.Tensor]) -> Tuple[List[torch.Tensor], Log]:
    """The all-gather phase, from the state reduce-scatter leaves: rank ``r``'s chunk
    ``(r + 1) mod W`` is the one it owns (complete); its other chunks are overwritten.

    Returns:
        ``(after, log)``: every ``after[r]`` is the concatenation over ``c`` of chunk ``c`` of
        rank ``(c - 1) mod W`` (new tensors); ``log[s][r] = (r, (r + 1) mod W, (r + 1 - s) mod W)``,
        the receiver overwriting its copy.  ``W = 1``: copies and ``[]``.
    """
    ### BEGIN SOLUTION
    W = len(buffers)
    bounds = chunk_bounds(buffers[0].numel(), W)
    bufs = [b.clone() for b in buffers]
    log = []
    for s in range(W - 1):
        sends = [(r, (r + 1) % W, (r + 1 - s) % W) for r in range(W)]
        payload = [bufs[src][slice(*bounds[c])].clone() for src, _, c in sends]
        for (src, dst, c), chunk in zip(sends, payload):
            bufs[dst][slice(*bounds[c])] = chunk
        log.append(sends)
    return bufs, log
    ### END SOLUTION


def ring_all_reduce(buffers: List[torch.Tensor], op: str = "sum") -> Tuple[List[torch.Tensor], Log]:
    """Reduce-scatter, then all-gather: every rank ends with the same result.

    Args:
        buffers: as in :func:`ring_reduce_scatter`.
        op: ``"sum"``, or ``"mean"`` for floating-point buffers (the sum divided by ``W``; each rank
            divides the chunk it owns after the reduce-scatter, so every rank still ends with
            identical values).

    Returns:
        ``(after, log)``: ``after[r]`` all equal (bit for bit) to the reduction; ``log`` the
        ``2 (W - 1)`` steps, reduce-scatter's then all-gather's.

    Raises:
        ValueError: for another ``op``.
    """
    ### BEGIN SOLUTION
    W = len(buffers)
    reduced, log_rs = ring_reduce_scatter(buffers)
    if op == "mean":
        bounds = chunk_bounds(buffers[0].numel(), W)
        for r in range(W):
            owned = slice(*bounds[(r + 1) % W])
            reduced[r][owned] = reduced[r][owned] / W
    elif op != "sum":
        raise ValueError(f"unknown op {op!r}")
    gathered, log_ag = ring_all_gather(reduced)
    return gathered, log_rs + log_ag
    ### END SOLUTION


def ring_cost(numel: int, world: int, bytes_per_element: int, bandwidth: float, latency: float) -> Dict[str, object]:
    """What one ring all-reduce of ``numel`` elements costs.

    Each of the ``2 (W - 1)`` steps takes ``latency + (largest chunk's bytes) / bandwidth``
    seconds (all ranks send at once; the biggest message sets the pace).

    Returns:
        ``{"steps": 2 (W - 1), "bytes_sent": [bytes rank r sends, for r in 0..W-1], "seconds":
        total time}`` -- rank ``r`` sends every chunk but ``(r + 1) mod W`` during the
        reduce-scatter and every chunk but ``(r + 2) mod W`` during the all-gather (uneven
        chunks make these differ).  ``W = 1``: ``{"steps": 0, "bytes_sent": [0], "seconds": 0.0}``.
    """
    ### BEGIN SOLUTION
    sizes = [e - s for s, e in chunk_bounds(numel, world)]
    steps = 2 * (world - 1)
    if world == 1:
        return {"steps": 0, "bytes_sent": [0], "seconds": 0.0}
    sent = [(2 * numel - sizes[(r + 1) % world] - sizes[(r + 2) % world]) * bytes_per_element for r in range(world)]
    seconds = steps * (latency + max(sizes) * bytes_per_element / bandwidth)
    return {"steps": steps, "bytes_sent": sent, "seconds": seconds}
    ### END SOLUTION
