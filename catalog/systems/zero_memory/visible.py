"""Visible checks: the paper's Table 1 row for 7.5 B parameters on 64 GPUs (120, 31.4, 16.6 and
1.9 GB), the largest model that fits 32 GB without ZeRO, and the communication of stages 2 and 3."""
from mlkata.checks import Fail, check, describe, expect_close, expect_equal, probe


@probe
def states(sub, num_params, world_size, stage, **kwargs):
    return sub.model_state_bytes(num_params, world_size, stage, **kwargs)


def states_oracle(num_params, world_size, stage, optimizer_bytes=12):
    shard = (num_params + world_size - 1) // world_size
    params = 2 * (shard if stage == 3 else num_params)
    grads = 2 * (shard if stage >= 2 else num_params)
    optimizer = optimizer_bytes * (shard if stage >= 1 else num_params)
    return {"params": params, "grads": grads, "optimizer": optimizer, "total": params + grads + optimizer}


RULES = {"params": "fp16 parameters: 2 bytes each, partitioned (ceil(Psi / N) per GPU) only at stage 3",
         "grads": "fp16 gradients: 2 bytes each, partitioned from stage 2 on",
         "optimizer": "optimizer states: K bytes each (12 for mixed-precision Adam), partitioned from stage 1 on",
         "total": "total = params + grads + optimizer"}


def expect_states(got, num_params, world_size, stage, what, **kwargs):
    """Judge side: the four integers of model_state_bytes, each against the oracle."""
    want = states_oracle(num_params, world_size, stage, **kwargs)
    if not isinstance(got, dict) or not set(want) <= set(got):
        raise Fail("model_state_bytes returns {'params', 'grads', 'optimizer', 'total'}",
                   f"{what}: your code returned {describe(got)}")
    for key in ("params", "grads", "optimizer", "total"):
        expect_equal(got[key], want[key], RULES[key] + " -- exact integers", what=f"{key} ({what})")


PSI, N = 7_500_000_000, 64


@check("Table 1 of the ZeRO paper: 7.5 B parameters on 64 GPUs need 120, 31.4, 16.6 and 1.9 GB per GPU")
def table_one(run):
    for stage in range(4):
        expect_states(run(states, PSI, N, stage), PSI, N, stage, f"Psi = 7.5e9, N = 64, stage {stage}")


@check("without ZeRO, 32 GB per GPU fit 2,000,000,000 parameters (16 bytes each)")
def largest_fitting(run):
    expect_equal(run("max_params", 32_000_000_000, 8, 0), 2_000_000_000, "the largest Psi with 16 Psi <= 32e9: "
                 "stage 0 replicates everything, whatever N", what="max_params(32e9 bytes, N=8, stage 0)")


@check("communication per step: 2 Psi (N - 1) / N for stage 2, 1.5 times that for stage 3")
def communication(run):
    for stage, factor in ((2, 2), (3, 3)):
        expect_close(run("communication_per_step", PSI, N, stage), factor * PSI * (N - 1) / N,
                     "stages 0-2 reduce-scatter gradients and all-gather parameters (2 Psi (N - 1) / N); stage 3 "
                     "all-gathers the parameters twice (3 Psi (N - 1) / N)", rtol=1e-12,
                     what=f"communication_per_step(7.5e9, 64, stage {stage})")
