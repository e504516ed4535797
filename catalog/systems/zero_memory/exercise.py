"""ZeRO memory math: what each GPU holds under stages 0-3 of mixed-precision Adam training.

Training a model of ``Psi`` parameters with Adam in mixed precision keeps three *model states*
per parameter (Rajbhandari et al., 2020, "ZeRO: Memory Optimizations Toward Training Trillion
Parameter Models"):

* the fp16/bf16 parameters used in forward and backward: **2 bytes**;
* their fp16/bf16 gradients: **2 bytes**;
* the optimizer states, ``K`` bytes: an fp32 master copy of the parameters (4), Adam's first
  moment (4) and second moment (4) -- **K = 12**.

Plain data parallelism (stage 0) replicates all ``(2 + 2 + K) Psi = 16 Psi`` bytes on every GPU:
7.5 B parameters need 120 GB per GPU.  ZeRO partitions them across the ``N`` data-parallel ranks,
one more kind at each stage:

* stage 1 (P_os): the optimizer states -> ``2 Psi + 2 Psi + K Psi / N``;
* stage 2 (P_os+g): and the gradients -> ``2 Psi + (2 + K) Psi / N``;
* stage 3 (P_os+g+p): and the parameters -> ``(2 + 2 + K) Psi / N``.

A partitioned kind is split into ``N`` equal shards, the last one padded: each GPU holds
``ceil(Psi / N)`` of its elements.  Communication per training step (elements each GPU sends,
counting a ring reduce-scatter or all-gather of ``Psi`` elements as ``Psi (N - 1) / N``): stages
0-2 reduce-scatter the gradients and all-gather the (updated) parameters, ``2 Psi (N - 1) / N``
(the same as plain all-reduce); stage 3 all-gathers the parameters twice (forward and backward)
and reduce-scatters the gradients, ``3 Psi (N - 1) / N`` -- 1.5 times as much.
"""
from typing import Dict

PARAM_BYTES = 2      # fp16 / bf16 parameters
GRAD_BYTES = 2       # fp16 / bf16 gradients


def model_state_bytes(num_params: int, world_size: int, stage: int, optimizer_bytes: int = 12) -> Dict[str, int]:
    """Bytes of model states on ONE GPU.

    Args:
        num_params: ``Psi >= 1``.
        world_size: ``N >= 1`` data-parallel ranks.
        stage: 0 (replicated), 1, 2 or 3 (see the module docstring).
        optimizer_bytes: ``K``, optimizer-state bytes per parameter (12 for mixed-precision Adam).

    Returns:
        ``{"params": int, "grads": int, "optimizer": int, "total": int}``: a replicated kind costs
        ``bytes_per_element * Psi``, a partitioned one ``bytes_per_element * ceil(Psi / N)``;
        ``total`` is the sum of the three.

    Raises:
        ValueError: for a stage outside 0-3.
    """
    ### BEGIN SOLUTION
    if stage not in (0, 1, 2, 3):
        raise ValueError(f"ZeRO stage must be 0, 1, 2 or 3, not {stage!r}")
    shard = -(-num_params // world_size)                              # ceil(Psi / N): shards padded to equal size
    params = PARAM_BYTES * (shard if stage >= 3 else num_params)
    grads = GRAD_BYTES * (shard if stage >= 2 else num_params)
    optimizer = optimizer_bytes * (shard if stage >= 1 else num_params)
    return {"params": params, "grads": grads, "optimizer": optimizer, "total": params + grads + optimizer}
    ### END SOLUTION


def max_params(memory_bytes: int, world_size: int, stage: int, optimizer_bytes: int = 12) -> int:
    """The largest ``Psi`` whose model states fit in ``memory_bytes`` per GPU (``total <=
    memory_bytes``); 0 if not even one parameter fits.  Exact, with the ``ceil`` of the shards.

    Raises:
        ValueError: for a stage outside 0-3.
    """
    ### BEGIN SOLUTION
    def fits(psi):
        return model_state_bytes(psi, world_size, stage, optimizer_bytes)["total"] <= memory_bytes

    if not fits(1):
        return 0
    lo, hi = 1, 2
    while fits(hi):                                                   # total grows with Psi: bracket, then bisect
        lo, hi = hi, hi * 2
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if fits(mid) else (lo, mid)
    return lo
    ### END SOLUTION


def communication_per_step(num_params: int, world_size: int, stage: int) -> float:
    """Elements each GPU sends per training step: ``2 Psi (N - 1) / N`` for stages 0-2,
    ``3 Psi (N - 1) / N`` for stage 3 (0 when ``N = 1``).

    Raises:
        ValueError: for a stage outside 0-3.
    """
    ### BEGIN SOLUTION
    if stage not in (0, 1, 2, 3):
        raise ValueError(f"ZeRO stage must be 0, 1, 2 or 3, not {stage!r}")
    collectives = 3 if stage == 3 else 2
    return collectives * num_params * (world_size - 1) / world_size
    ### END SOLUTION
