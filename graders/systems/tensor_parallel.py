"""Hidden graders of systems/tensor_parallel: shards on random layers and world sizes (and
ValueError for an indivisible split or an unknown mode); the column- and row-parallel forwards
against the unsharded layer (the bias once, even when it dominates); the Megatron MLP on 1, 2, 4
and 8 ranks; its backward without autograd against torch.autograd on the unsharded MLP, sharded
after the fact (dW1/db1/dW2 shards, db2 and the all-reduced dX on every rank, one all-reduce);
float64 agreement to 1e-10; untouched inputs."""
import torch
import torch.nn.functional as F

from mlkata.checks import Fail, check, describe, expect_close, expect_equal, probe, visible_module

V = visible_module("systems/tensor_parallel")


@probe
def indivisible(sub, weight, bias, world, mode):
    try:
        sub.shard_linear(weight, bias, world, mode)
    except ValueError:
        return "ValueError"
    return "nothing raised"


@probe
def backward(sub, x, w1, b1, w2, b2, grad_out, world):
    return {"out": sub.tp_mlp_backward(x, w1, b1, w2, b2, grad_out, world), "after": [x, w1, b1, w2, b2, grad_out]}


def layer(seed, out_f, in_f, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(out_f, in_f, generator=g, dtype=torch.float64).to(dtype),
            torch.randn(out_f, generator=g, dtype=torch.float64).to(dtype))


def mlp_params(seed, B, d_in, hidden, d_out, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(B, d_in, generator=g, dtype=torch.float64).to(dtype)
    w1, b1 = layer(seed + 1, hidden, d_in, dtype)
    w2, b2 = layer(seed + 2, d_out, hidden, dtype)
    return x, w1, b1, w2, b2


def backward_oracle(x, w1, b1, w2, b2, grad_out, world):
    """Autograd on the unsharded MLP, then each gradient cut the way the ranks hold it."""
    leaves = [t.detach().clone().requires_grad_(True) for t in (x, w1, b1, w2, b2)]
    V.mlp_oracle(*leaves).backward(grad_out)
    dx, dw1, db1, dw2, db2 = (t.grad for t in leaves)
    return {"w1": list(dw1.chunk(world, 0)), "b1": list(db1.chunk(world, 0)), "w2": list(dw2.chunk(world, 1)),
            "b2": [db2] * world, "x": [dx] * world}


GRAD_RULES = {
    "w1": "dW1_r = dA_r^T X with dA_r = (dZ W2_r) * GeLU'(A_r): the gradient of rank r's block of W1's rows",
    "b1": "db1_r = dA_r summed over the batch: the gradient of rank r's block of b1",
    "w2": "dW2_r = dZ^T H_r: the gradient of rank r's block of W2's columns",
    "b2": "db2 = dZ summed over the batch, the same full (out,) gradient on every rank",
    "x": "dX = sum over ranks of dA_r W1_r (the backward all-reduce), the same full (B, in) gradient on every rank",
}


def expect_backward(got, x, w1, b1, w2, b2, grad_out, world, what, rtol=1e-4, atol=1e-5):
    out = got["out"]
    rule = "tp_mlp_backward returns (grads, allreduces) with grads['w1'|'b1'|'w2'|'b2'|'x'] lists of one tensor per rank"
    if not isinstance(out, (list, tuple)) or len(out) != 2 or not isinstance(out[0], dict):
        raise Fail(rule, f"{what}: your code returned {describe(out)}")
    grads, count = out
    want = backward_oracle(x, w1, b1, w2, b2, grad_out, world)
    for key in ("w2", "b2", "w1", "b1", "x"):
        mine = V.per_rank(grads.get(key), world, want[key][0].shape, rule + f" ({key}: shape "
                          f"{list(want[key][0].shape)})", f"{key} ({what})")
        for r in range(world):
            expect_close(mine[r], want[key][r], GRAD_RULES[key], rtol=rtol, atol=atol, what=f"d{key} on rank {r} "
                         f"({what})")
    expect_equal(count, 1, "the backward pass needs exactly one all-reduce (for dX)", what=f"allreduces ({what})")


@check("shard_linear on random layers and world sizes 1, 2, 4, 8 (column and row)")
def shard_random(run):
    for i, (out_f, in_f, world) in enumerate(((8, 6, 2), (12, 8, 4), (16, 24, 8), (5, 7, 1))):
        w, b = layer(i, out_f, in_f)
        for mode in ("column", "row"):
            if (out_f if mode == "column" else in_f) % world == 0:
                V.expect_shards(run(V.shard, w, b, world, mode), w, b, world, mode, f"{mode}, {out_f} x {in_f}, "
                                f"N = {world}")


@check("shard_linear raises ValueError when the split dimension is not divisible, or for an unknown mode")
def shard_errors(run):
    w, b = layer(10, 6, 5)
    for world, mode in ((4, "column"), (2, "row"), (2, "diagonal")):
        expect_equal(run(indivisible, w, b, world, mode), "ValueError", "raise ValueError when the split does not "
                     "give equal blocks, or for a mode other than 'column' and 'row'",
                     what=f"shard_linear(6 x 5 weight, world={world}, mode={mode!r})")
    V.expect_shards(run(V.shard, w, b, 3, "column"), w, b, 3, "column", "column, 6 x 5, N = 3")


@check("column_parallel_forward on random layers: each rank's slice, and the gathered output", points=2)
def column_random(run):
    for i, (B, in_f, out_f, world) in enumerate(((4, 6, 8, 2), (3, 5, 12, 4), (1, 3, 8, 8))):
        w, b = layer(20 + i, out_f, in_f)
        x = torch.randn(B, in_f, generator=torch.Generator().manual_seed(30 + i))
        full = F.linear(x, w, b)
        k = out_f // world
        local = V.per_rank(run(V.column_forward, x, w, b, world, False), world, (B, k), "each rank holds its "
                           "(B, out/N) slice", f"N = {world}")
        for r in range(world):
            expect_close(local[r], full[:, r * k:(r + 1) * k], "rank r's output is x W_r^T + b_r", what=f"rank {r} "
                         f"(N = {world})")
        gathered = V.per_rank(run(V.column_forward, x, w, b, world, True), world, (B, out_f), "with gather_output "
                              "every rank holds (B, out)", f"N = {world}, gathered")
        for r in range(world):
            expect_close(gathered[r], full, "all-gathered in rank order", what=f"rank {r} (N = {world}, gathered)")


@check("row_parallel_forward on random layers: the all-reduced sum plus the bias once (a bias of 1000 included)",
       points=2)
def row_random(run):
    for i, (B, in_f, out_f, world, bias_scale) in enumerate(((4, 8, 6, 2, 1.0), (2, 12, 5, 4, 1000.0),
                                                             (3, 8, 3, 8, 1.0))):
        w, b = layer(40 + i, out_f, in_f)
        b = b * bias_scale
        x = torch.randn(B, in_f, generator=torch.Generator().manual_seed(50 + i))
        parts = list(x.chunk(world, dim=1))
        got = V.per_rank(run(V.row_forward, parts, w, b, world), world, (B, out_f), "every rank holds the (B, out) "
                         "output", f"N = {world}")
        for r in range(world):
            expect_close(got[r], F.linear(x, w, b), "sum over ranks of x_r W_r^T, then the replicated bias ONCE "
                         "(adding it on every rank before the all-reduce gives N * bias)", rtol=1e-4, atol=1e-3,
                         what=f"rank {r} (N = {world})")


@check("tp_mlp_forward equals the unsharded MLP on every rank for N = 1, 2, 4, 8, with one all-reduce", points=2)
def mlp_random(run):
    for i, world in enumerate((1, 2, 4, 8)):
        x, w1, b1, w2, b2 = mlp_params(60 + i, 5, 6, 16, 7)
        got = run(V.mlp, x, w1, b1, w2, b2, world)["out"]
        if not isinstance(got, (list, tuple)) or len(got) != 2:
            raise Fail("tp_mlp_forward returns (outputs, allreduces)", f"your code returned {describe(got)}")
        outs = V.per_rank(got[0], world, (5, 7), "one (B, out) output per rank", f"N = {world}")
        for r in range(world):
            expect_close(outs[r], V.mlp_oracle(x, w1, b1, w2, b2), "column-parallel W1, GeLU per rank, row-parallel "
                         "W2: the unsharded MLP's output on every rank", what=f"rank {r} (N = {world})")
        expect_equal(got[1], 1, "one all-reduce in the forward pass", what=f"allreduces (N = {world})")


@check("tp_mlp_backward: every rank's shard gradients, db2, and the all-reduced dX equal autograd's", points=3)
def backward_random(run):
    for i, world in enumerate((2, 4, 1)):
        x, w1, b1, w2, b2 = mlp_params(70 + i, 4, 5, 8, 3)
        grad_out = torch.randn(4, 3, generator=torch.Generator().manual_seed(80 + i))
        expect_backward(run(backward, x, w1, b1, w2, b2, grad_out, world), x, w1, b1, w2, b2, grad_out, world,
                        f"N = {world}")


@check("float64: the backward pass to 1e-10 on 8 ranks")
def backward_float64(run):
    x, w1, b1, w2, b2 = mlp_params(90, 3, 4, 16, 2, torch.float64)
    grad_out = torch.randn(3, 2, generator=torch.Generator().manual_seed(91), dtype=torch.float64)
    expect_backward(run(backward, x, w1, b1, w2, b2, grad_out, 8), x, w1, b1, w2, b2, grad_out, 8,
                    "float64, N = 8", rtol=1e-10, atol=1e-12)


@check("no input is modified by the forward or the backward pass")
def inputs_untouched(run):
    x, w1, b1, w2, b2 = mlp_params(95, 2, 4, 8, 3)
    grad_out = torch.randn(2, 3, generator=torch.Generator().manual_seed(96))
    got = run(backward, x, w1, b1, w2, b2, grad_out, 4)
    expect_backward(got, x, w1, b1, w2, b2, grad_out, 4, "N = 4")
    for name, before, after in zip(("x", "w1", "b1", "w2", "b2", "grad_out"), (x, w1, b1, w2, b2, grad_out),
                                   got["after"]):
        expect_equal(after, before, "tp_mlp_backward does not modify its inputs", what=f"{name} after the call")
    got = run(V.mlp, x, w1, b1, w2, b2, 4)
    for name, before, after in zip(("x", "w1", "b1", "w2", "b2"), (x, w1, b1, w2, b2), got["after"]):
        expect_equal(after, before, "tp_mlp_forward does not modify its inputs", what=f"{name} after the call")
