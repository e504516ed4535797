"""Visible checks: chunk boundaries of 10 elements on 4 ranks, a reduce-scatter and an
all-gather on 3 ranks with small integer buffers (every intermediate value readable), and a
whole all-reduce."""
import torch

from mlkata.checks import Fail, check, describe, expect_close, expect_equal, probe


@probe
def collective(sub, name, buffers, **kwargs):
    """Call ring_reduce_scatter / ring_all_gather / ring_all_reduce; report the result and the inputs after."""
    fn = {"reduce_scatter": sub.ring_reduce_scatter, "all_gather": sub.ring_all_gather,
          "all_reduce": sub.ring_all_reduce}[name]
    return {"out": fn(buffers, **kwargs), "inputs_after": buffers}


def bounds_oracle(numel, world):
    """torch.tensor_split's boundaries."""
    sizes = [t.numel() for t in torch.arange(numel).tensor_split(world)]
    starts = [sum(sizes[:c]) for c in range(world)]
    return [[s, s + n] for s, n in zip(starts, sizes)]


def simulate(buffers, phase, op="sum"):
    """The ring, step by step, in the buffers' dtype: (after, log) with the log as lists."""
    W = len(buffers)
    bounds = bounds_oracle(buffers[0].numel(), W)
    bufs = [b.clone() for b in buffers]
    log = []
    phases = ["reduce_scatter", "all_gather"] if phase == "all_reduce" else [phase]
    for ph in phases:
        if ph == "all_gather" and phase == "all_reduce" and op == "mean":
            for r in range(W):
                s, e = bounds[(r + 1) % W]
                bufs[r][s:e] = bufs[r][s:e] / W
        for step in range(W - 1):
            sends = [[r, (r + 1) % W, (r - step if ph == "reduce_scatter" else r + 1 - step) % W] for r in range(W)]
            payload = [bufs[src][bounds[c][0]:bounds[c][1]].clone() for src, _, c in sends]
            for (src, dst, c), chunk in zip(sends, payload):
                s, e = bounds[c]
                bufs[dst][s:e] = bufs[dst][s:e] + chunk if ph == "reduce_scatter" else chunk
            log.append(sends)
    return bufs, log


def as_lists(log):
    """A log with tuples turned into lists (plain data may come back either way)."""
    if isinstance(log, (list, tuple)):
        return [as_lists(x) for x in log]
    return log


def unpack(got, buffers, what):
    """Judge side: (list of W tensors shaped like the inputs, log)."""
    out = got["out"]
    W, N = len(buffers), buffers[0].numel()
    rule = "the collectives return (after, log): a list of W 1-D tensors and the list of steps"
    if not isinstance(out, (list, tuple)) or len(out) != 2:
        raise Fail(rule, f"{what}: your code returned {describe(out)}")
    after, log = out
    if not isinstance(after, (list, tuple)) or len(after) != W or not all(
            isinstance(t, torch.Tensor) and tuple(t.shape) == (N,) for t in after):
        raise Fail(rule, f"{what}: expected {W} tensors of shape [{N}], your code returned {describe(after)}")
    return list(after), as_lists(log)


LOG_RULES = {"reduce_scatter": "reduce-scatter: at step s every rank r sends chunk (r - s) mod W to rank (r + 1) mod W; "
                               "log[s][r] = (r, (r + 1) mod W, chunk)",
             "all_gather": "all-gather: at step s every rank r sends chunk (r + 1 - s) mod W to rank (r + 1) mod W; "
                           "log[s][r] = (r, (r + 1) mod W, chunk)",
             "all_reduce": "all-reduce logs the W - 1 reduce-scatter steps, then the W - 1 all-gather steps"}
STATE_RULES = {"reduce_scatter": "after the reduce-scatter rank r's chunk (r + 1) mod W is the sum over all ranks; the "
                                 "other chunks hold the partial sums the ring left (each step adds the received chunk "
                                 "into the receiver's copy)",
               "all_gather": "all-gather: the receiver OVERWRITES its copy of the chunk; afterwards every rank holds "
                             "chunk c of rank (c - 1) mod W for every c",
               "all_reduce": "after the all-reduce every rank holds the full reduction"}


def expect_collective(got, buffers, phase, what, op="sum", rtol=1e-9, atol=1e-9):
    """Judge side: the log, then every rank's buffer, equal the simulation's."""
    after, log = unpack(got, buffers, what)
    want, want_log = simulate(buffers, phase, op)
    expect_equal(log, want_log, LOG_RULES[phase], what=f"log ({what})")
    for r, (g, w) in enumerate(zip(after, want)):
        expect_close(g, w, STATE_RULES[phase], rtol=rtol, atol=atol, what=f"rank {r}'s buffer ({what})",
                     check_dtype=True)
    return after


THREE = [torch.tensor([1, 2, 3, 4, 5, 6]), torch.tensor([10, 20, 30, 40, 50, 60]),
         torch.tensor([100, 200, 300, 400, 500, 600])]


@check("chunk_bounds(10, 4) = [(0, 3), (3, 6), (6, 8), (8, 10)], as torch.tensor_split cuts")
def bounds_small(run):
    got = run("chunk_bounds", 10, 4)
    expect_equal(as_lists(got), bounds_oracle(10, 4), "the first numel % world chunks hold one element more",
                 what="chunk_bounds(10, 4)")


@check("reduce-scatter on 3 ranks of 6 integers: the log and every rank's buffer")
def reduce_scatter_small(run):
    expect_collective(run(collective, "reduce_scatter", THREE), THREE, "reduce_scatter", "3 ranks, N = 6")


@check("all-gather on 3 ranks: the owned chunks are copied around the ring")
def all_gather_small(run):
    owned, _ = simulate(THREE, "reduce_scatter")
    expect_collective(run(collective, "all_gather", owned), owned, "all_gather", "3 ranks, N = 6")


@check("all-reduce on 3 ranks: every rank ends with [111, 222, ..., 666]")
def all_reduce_small(run):
    after = expect_collective(run(collective, "all_reduce", THREE), THREE, "all_reduce", "3 ranks, N = 6")
    for r, t in enumerate(after):
        expect_equal(t, sum(THREE), "every rank ends with the elementwise sum", what=f"rank {r}")
