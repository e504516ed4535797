# CORRECT, written differently: a table of (bytes per element, first stage that partitions it) per
# kind; max_params from the closed form Psi ~ M / (replicated + partitioned / N), then nudged by
# whole parameters until it is exact.
KINDS = {"params": (2, 3), "grads": (2, 2)}


def _check(stage):
    if stage not in range(4):
        raise ValueError("stage must be 0..3")


def model_state_bytes(num_params, world_size, stage, optimizer_bytes=12):
    _check(stage)
    shard = (num_params + world_size - 1) // world_size
    kinds = dict(KINDS, optimizer=(optimizer_bytes, 1))
    out = {name: size * (shard if stage >= first else num_params) for name, (size, first) in kinds.items()}
    out["total"] = sum(out.values())
    return out


def max_params(memory_bytes, world_size, stage, optimizer_bytes=12):
    _check(stage)
    total = lambda psi: model_state_bytes(psi, world_size, stage, optimizer_bytes)["total"]  # noqa: E731
    per_param = total(world_size * 1000) / (world_size * 1000)
    psi = int(memory_bytes / per_param)
    while psi > 0 and total(psi) > memory_bytes:
        psi -= 1
    while total(psi + 1) <= memory_bytes:
        psi += 1
    return psi


def communication_per_step(num_params, world_size, stage):
    _check(stage)
    return (2 + (stage == 3)) * num_params * (world_size - 1) / world_size
