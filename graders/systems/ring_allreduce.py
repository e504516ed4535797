"""Hidden graders of systems/ring_allreduce: chunk boundaries against torch.tensor_split; the
reduce-scatter, all-gather and all-reduce against a step-by-step simulation of the ring on random
world sizes and uneven lengths (the log of every send, every rank's whole buffer, the owned chunks'
sums), all-reduce results identical on every rank, "mean", int64 and float32 buffers, W = 1 and
N < W, untouched inputs, and the cost model (steps, per-rank bytes with uneven chunks, seconds).
tests/test_twins_systems_ring_allreduce.py runs torch.distributed's gloo collectives as the twin."""
import torch

from mlkata.checks import Fail, check, describe, expect_close, expect_equal, probe, visible_module

V = visible_module("systems/ring_allreduce")

CASES = ((2, 7), (3, 11), (4, 4), (5, 23), (8, 30), (4, 3))           # (W, N); N < W in the last


def ranks(seed, W, N, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    if dtype == torch.int64:
        return [torch.randint(-50, 50, (N,), generator=g) for _ in range(W)]
    return [torch.randn(N, generator=g, dtype=torch.float64).to(dtype) for _ in range(W)]


@probe
def unknown_op(sub, buffers):
    try:
        sub.ring_all_reduce(buffers, op="max")
    except ValueError:
        return "ValueError"
    return "nothing raised"


@check("chunk_bounds agrees with torch.tensor_split for random lengths and world sizes (N < W included)")
def bounds_random(run):
    for numel, world in ((100, 8), (7, 3), (3, 5), (0, 2), (64, 1), (1000, 7)):
        expect_equal(V.as_lists(run("chunk_bounds", numel, world)), V.bounds_oracle(numel, world),
                     "chunks as torch.tensor_split cuts them: the first numel % world hold numel // world + 1 "
                     "elements, the rest numel // world", what=f"chunk_bounds({numel}, {world})")


@check("reduce-scatter on random world sizes and uneven lengths: the log and every rank's buffer", points=2)
def reduce_scatter_random(run):
    for i, (W, N) in enumerate(CASES):
        buffers = ranks(i, W, N)
        V.expect_collective(run(V.collective, "reduce_scatter", buffers), buffers, "reduce_scatter", f"W={W}, N={N}")


@check("after the reduce-scatter, rank r's chunk (r + 1) mod W is the sum over all ranks")
def owned_chunks(run):
    for i, (W, N) in enumerate(CASES[:5]):
        buffers = ranks(10 + i, W, N)
        after, _ = V.unpack(run(V.collective, "reduce_scatter", buffers), buffers, f"W={W}, N={N}")
        total = torch.stack(buffers).sum(0)
        bounds = V.bounds_oracle(N, W)
        for r in range(W):
            s, e = bounds[(r + 1) % W]
            expect_close(after[r][s:e], total[s:e], "each chunk collects every rank's contribution on its way around "
                         "the ring: rank r ends owning chunk (r + 1) mod W, fully reduced", rtol=1e-9, atol=1e-9,
                         what=f"rank {r}'s chunk {(r + 1) % W} (W={W}, N={N})")


@check("all-gather on random world sizes: the owned chunks reach every rank, overwriting", points=2)
def all_gather_random(run):
    for i, (W, N) in enumerate(CASES):
        owned, _ = V.simulate(ranks(20 + i, W, N), "reduce_scatter")
        V.expect_collective(run(V.collective, "all_gather", owned), owned, "all_gather", f"W={W}, N={N}")


@check("all-reduce (sum) on random float64, float32 and int64 buffers: the sum, bit-identical on every rank",
       points=2)
def all_reduce_random(run):
    for i, ((W, N), dtype) in enumerate(zip(CASES, (torch.float64, torch.float32, torch.int64) * 2)):
        buffers = ranks(30 + i, W, N, dtype)
        after = V.expect_collective(run(V.collective, "all_reduce", buffers), buffers, "all_reduce",
                                    f"W={W}, N={N}, {dtype}", rtol=1e-5 if dtype == torch.float32 else 1e-9)
        for r in range(1, W):
            expect_equal(after[r], after[0], "every rank ends with the same bits: each chunk is reduced once, on its "
                         "owner, and then only copied", what=f"rank {r} vs rank 0 (W={W}, N={N}, {dtype})")
        expect_close(after[0].double(), torch.stack(buffers).double().sum(0), "the all-reduce is the elementwise sum",
                     rtol=1e-5, atol=1e-5, what=f"rank 0 (W={W}, N={N}, {dtype})")


@check("all-reduce with op='mean' divides the owned chunks by W before the all-gather; another op raises ValueError")
def all_reduce_mean(run):
    for i, (W, N) in enumerate(((4, 10), (3, 2))):
        buffers = ranks(40 + i, W, N)
        V.expect_collective(run(V.collective, "all_reduce", buffers, op="mean"), buffers, "all_reduce", f"mean, W={W}, "
                            f"N={N}", op="mean")
    expect_equal(run(unknown_op, ranks(42, 2, 4)), "ValueError", "ring_all_reduce raises ValueError for an op other "
                 "than 'sum' and 'mean'", what="ring_all_reduce(..., op='max')")


@check("W = 1 (copies, no steps) and N = 1 on 4 ranks (three empty chunks still travel)")
def edges(run):
    for phase in ("reduce_scatter", "all_gather", "all_reduce"):
        for W, N in ((1, 5), (4, 1)):
            buffers = ranks(50, W, N)
            V.expect_collective(run(V.collective, phase, buffers), buffers, phase, f"{phase}, W={W}, N={N}")


@check("no input buffer is modified; the results are new tensors")
def inputs_untouched(run):
    buffers = ranks(60, 3, 8)
    for phase in ("reduce_scatter", "all_gather", "all_reduce"):
        got = run(V.collective, phase, [b.clone() for b in buffers])
        V.expect_collective(got, buffers, phase, f"{phase}, W=3, N=8")
        for r, (before, after) in enumerate(zip(buffers, got["inputs_after"])):
            expect_equal(after, before, f"{phase} does not modify its input buffers (clone them first)",
                         what=f"input buffer {r} after the call")


def cost_oracle(numel, world, b, bandwidth, latency):
    sizes = [e - s for s, e in V.bounds_oracle(numel, world)]
    if world == 1:
        return {"steps": 0, "bytes_sent": [0], "seconds": 0.0}
    sent = [sum(sizes[c] for c in range(world) if c != (r + 1) % world) * b
            + sum(sizes[c] for c in range(world) if c != (r + 2) % world) * b for r in range(world)]
    return {"steps": 2 * (world - 1), "bytes_sent": sent,
            "seconds": 2 * (world - 1) * (latency + max(sizes) * b / bandwidth)}


@check("ring_cost: 2 (W - 1) steps, each rank's bytes (uneven chunks), latency + largest chunk / bandwidth per step",
       points=2)
def cost(run):
    for numel, world, b, bw, lat in ((1_000_000, 8, 4, 1e10, 1e-5), (10, 4, 2, 1e3, 0.5), (7, 3, 8, 1e6, 0.0),
                                     (100, 1, 4, 1e9, 1e-6)):
        got = run("ring_cost", numel, world, b, bw, lat)
        want = cost_oracle(numel, world, b, bw, lat)
        if not isinstance(got, dict) or set(got) < {"steps", "bytes_sent", "seconds"}:
            raise Fail("ring_cost returns {'steps', 'bytes_sent', 'seconds'}", f"your code returned {describe(got)}")
        what = f"ring_cost({numel}, W={world}, {b} B/elem)"
        expect_equal(got["steps"], want["steps"], "an all-reduce is W - 1 reduce-scatter steps plus W - 1 all-gather "
                     "steps", what=f"steps ({what})")
        expect_equal(V.as_lists(got["bytes_sent"]), want["bytes_sent"], "rank r sends every chunk but (r + 1) mod W "
                     "in the reduce-scatter and every chunk but (r + 2) mod W in the all-gather", what=f"bytes_sent "
                     f"({what})")
        expect_close(got["seconds"], want["seconds"], "each step costs latency + (largest chunk's bytes) / bandwidth",
                     rtol=1e-9, atol=1e-15, what=f"seconds ({what})")
