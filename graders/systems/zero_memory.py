"""Hidden graders of systems/zero_memory: per-GPU bytes on random sizes (shards padded with ceil),
stages and K; the paper's other figures (1 T parameters on 1024 GPUs); N = 1 and the order of the
stages; exact integers (no float division) at 2^55 + 1 parameters; max_params exactly at the boundary (fits, one more does
not, 0 when nothing fits); communication volumes; and ValueError for unknown stages."""
import random

from mlkata.checks import check, expect, expect_close, expect_equal, probe, visible_module

V = visible_module("systems/zero_memory")


@probe
def bad_stage(sub, fn, stage):
    try:
        getattr(sub, fn)(*((1000, 4, stage) if fn != "max_params" else (10 ** 9, 4, stage)))
    except ValueError:
        return "ValueError"
    return "nothing raised"


def max_params_oracle(memory, world, stage, k=12):
    """Largest Psi with total(Psi) <= memory: from the closed form without the ceil, then corrected."""
    replicated = 2 * (stage < 3) + 2 * (stage < 2) + k * (stage < 1)
    partitioned = 2 + 2 + k - replicated                     # bytes per element of the partitioned kinds
    total = lambda psi: replicated * psi + partitioned * (-(-psi // world))  # noqa: E731
    psi = max(0, int(memory // (replicated + partitioned / world)))
    while psi > 0 and total(psi) > memory:
        psi -= 1
    while total(psi + 1) <= memory:
        psi += 1
    return psi


@check("model_state_bytes on random sizes, world sizes, stages and K (shards padded: ceil(Psi / N))", points=2)
def random_sizes(run):
    rng = random.Random(0)
    for _ in range(12):
        psi, n, stage = rng.randrange(1, 10 ** 11), rng.choice((1, 2, 3, 7, 8, 64, 1000)), rng.randrange(4)
        k = rng.choice((12, 16, 8))
        V.expect_states(run(V.states, psi, n, stage, optimizer_bytes=k), psi, n, stage,
                        f"Psi = {psi}, N = {n}, stage {stage}, K = {k}", optimizer_bytes=k)


@check("the paper's headline: 1 T parameters on 1024 GPUs with stage 3 need 15.6 GB of model states per GPU")
def trillion(run):
    V.expect_states(run(V.states, 10 ** 12, 1024, 3), 10 ** 12, 1024, 3, "Psi = 1e12, N = 1024, stage 3")
    V.expect_states(run(V.states, 10 ** 12, 1024, 1), 10 ** 12, 1024, 1, "Psi = 1e12, N = 1024, stage 1")


@check("with N = 1 every stage costs what stage 0 costs; with N > 1 each stage needs no more than the one before")
def stages_ordered(run):
    for stage in range(4):
        V.expect_states(run(V.states, 123_456_789, 1, stage), 123_456_789, 1, stage, f"N = 1, stage {stage}")
    totals = []
    for stage in range(4):
        got = run(V.states, 987_654_321, 16, stage)
        V.expect_states(got, 987_654_321, 16, stage, f"N = 16, stage {stage}")
        totals.append(got["total"])
    expect(totals == sorted(totals, reverse=True), "each stage partitions one more kind of state",
           f"totals of stages 0-3: {totals}")


@check("exact integer bytes for any Psi: 2^55 + 1 parameters on 2 GPUs (Psi / N as a float rounds the half away)")
def exact_integers(run):
    psi = 2 ** 55 + 1
    for stage in (0, 3):
        got = run(V.states, psi, 2, stage)
        V.expect_states(got, psi, 2, stage, f"Psi = 2^55 + 1, N = 2, stage {stage} (ceil(Psi / N) = 2^54 + 1)")
        expect(all(isinstance(got[k], int) for k in ("params", "grads", "optimizer", "total")),
               "byte counts are Python ints", f"your types: {[type(got[k]).__name__ for k in got]}")


@check("max_params is exact: its Psi fits, Psi + 1 does not (random budgets, every stage)", points=2)
def max_params_exact(run):
    rng = random.Random(1)
    for _ in range(10):
        memory, n, stage = rng.randrange(10 ** 6, 10 ** 11), rng.choice((1, 3, 8, 64)), rng.randrange(4)
        k = rng.choice((12, 16))
        want = max_params_oracle(memory, n, stage, k)
        got = run("max_params", memory, n, stage, k)
        expect_equal(got, want, "max_params returns the largest Psi with model_state_bytes(Psi)['total'] <= memory "
                     "(a model that fills the memory exactly fits)", what=f"max_params({memory}, N={n}, stage {stage}, "
                     f"K={k})")


@check("max_params returns 0 when not one parameter fits, and Psi exactly when the memory is exactly 16 Psi")
def max_params_edges(run):
    expect_equal(run("max_params", 15, 1, 0), 0, "16 bytes per parameter do not fit in 15", what="max_params(15, 1, 0)")
    expect_equal(run("max_params", 16 * 12345, 1, 0), 12345, "a model that fills the memory exactly fits",
                 what="max_params(16 * 12345, 1, 0)")
    expect_equal(run("max_params", 17, 4, 3), 4, "stage 3 on 4 GPUs: Psi = 4 costs 16 bytes per GPU, 5 costs 32",
                 what="max_params(17, N=4, stage 3)")


@check("communication_per_step for every stage and several N (0 when N = 1)")
def communication_all(run):
    for n in (1, 2, 8, 1000):
        for stage in range(4):
            want = (3 if stage == 3 else 2) * 10 ** 9 * (n - 1) / n
            expect_close(run("communication_per_step", 10 ** 9, n, stage), want, "2 Psi (N - 1) / N for stages 0-2, "
                         "3 Psi (N - 1) / N for stage 3", rtol=1e-12, atol=1e-9,
                         what=f"communication_per_step(1e9, N={n}, stage {stage})")


@check("stages outside 0-3 raise ValueError in every function")
def unknown_stage(run):
    for fn in ("model_state_bytes", "max_params", "communication_per_step"):
        for stage in (4, -1):
            expect_equal(run(bad_stage, fn, stage), "ValueError", "ZeRO has stages 0, 1, 2 and 3: raise ValueError "
                         "for any other", what=f"{fn}(..., stage={stage})")
    V.expect_states(run(V.states, 1000, 4, 2), 1000, 4, 2, "Psi = 1000, N = 4, stage 2")
