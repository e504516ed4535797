"""Visible checks: a 4 x 3 weight split by columns and by rows over 2 ranks, the column- and
row-parallel forwards against the unsharded linear layer, and the whole MLP on 2 ranks."""
import torch
import torch.nn.functional as F

from mlkata.checks import Fail, check, describe, expect_close, expect_equal, expect_tensor, probe


@probe
def shard(sub, weight, bias, world, mode):
    return {"out": sub.shard_linear(weight, bias, world, mode), "after": [weight, bias]}


@probe
def column_forward(sub, x, weight, bias, world, gather_output):
    return sub.column_parallel_forward(x, sub.shard_linear(weight, bias, world, "column"), gather_output)


@probe
def row_forward(sub, x_parts, weight, bias, world):
    return sub.row_parallel_forward(x_parts, sub.shard_linear(weight, bias, world, "row"))


@probe
def mlp(sub, x, w1, b1, w2, b2, world):
    return {"out": sub.tp_mlp_forward(x, w1, b1, w2, b2, world), "after": [x, w1, b1, w2, b2]}


def per_rank(got, world, shape, rule, what):
    """Judge side: a list of ``world`` tensors of ``shape``."""
    if not isinstance(got, (list, tuple)) or len(got) != world:
        raise Fail(rule, f"{what}: expected a list of {world} tensors (one per rank), your code returned "
                         f"{describe(got)}")
    for r, t in enumerate(got):
        expect_tensor(t, rule, shape=shape)
    return list(got)


def shards_oracle(weight, bias, world, mode):
    if mode == "column":
        return list(zip(weight.chunk(world, 0), bias.chunk(world, 0)))
    return [(w, bias) for w in weight.chunk(world, 1)]


SHARD_RULES = {"column": "column mode: rank r gets the r-th of N equal blocks of the weight's ROWS (output features) "
                         "and of the bias",
               "row": "row mode: rank r gets the r-th of N equal blocks of the weight's COLUMNS (input features) and "
                      "the whole bias"}


def expect_shards(got, weight, bias, world, mode, what):
    out = got["out"]
    want = shards_oracle(weight, bias, world, mode)
    if not isinstance(out, (list, tuple)) or len(out) != world:
        raise Fail(SHARD_RULES[mode], f"{what}: expected {world} (weight, bias) pairs, your code returned "
                                      f"{describe(out)}")
    for r, (pair, (w, b)) in enumerate(zip(out, want)):
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise Fail(SHARD_RULES[mode], f"{what}: rank {r}: expected a (weight, bias) pair, got {describe(pair)}")
        expect_close(pair[0], w, SHARD_RULES[mode], rtol=0, atol=0, what=f"rank {r}'s weight ({what})")
        expect_close(pair[1], b, SHARD_RULES[mode], rtol=0, atol=0, what=f"rank {r}'s bias ({what})")


def mlp_oracle(x, w1, b1, w2, b2):
    return F.linear(F.gelu(F.linear(x, w1, b1)), w2, b2)


W43 = torch.arange(12.0).reshape(4, 3)
B4 = torch.tensor([0.5, -1.0, 2.0, 0.0])


@check("shard_linear splits a 4 x 3 layer over 2 ranks by rows ('column') and by columns ('row')")
def shard_small(run):
    expect_shards(run(shard, W43, B4, 2, "column"), W43, B4, 2, "column", "column, 4 x 3, N = 2")
    W = torch.arange(12.0).reshape(3, 4)
    b = torch.tensor([1.0, 2.0, 3.0])
    expect_shards(run(shard, W, b, 2, "row"), W, b, 2, "row", "row, 3 x 4, N = 2")


@check("column_parallel_forward: rank r computes columns of x W^T + b; gathered, every rank holds all of them")
def column_small(run):
    x = torch.tensor([[1.0, 0.0, -1.0], [2.0, 1.0, 0.5]])
    full = F.linear(x, W43, B4)
    local = per_rank(run(column_forward, x, W43, B4, 2, False), 2, (2, 2), "each rank holds its (B, out/N) slice",
                     "gather_output=False")
    for r in range(2):
        expect_close(local[r], full[:, 2 * r:2 * r + 2], "rank r's output is x W_r^T + b_r: columns [r out/N, (r+1) "
                     "out/N) of the full layer", what=f"rank {r}")
    gathered = per_rank(run(column_forward, x, W43, B4, 2, True), 2, (2, 4), "with gather_output every rank holds "
                        "(B, out)", "gather_output=True")
    for r in range(2):
        expect_close(gathered[r], full, "all-gathered: the ranks' blocks concatenated in rank order", what=f"rank {r}")


@check("row_parallel_forward: partial outputs summed (all-reduce), the bias added once")
def row_small(run):
    W = torch.tensor([[1.0, 2.0, 0.0, -1.0], [0.5, 0.0, 1.0, 1.0]])
    b = torch.tensor([10.0, -10.0])
    x = torch.tensor([[1.0, 1.0, 2.0, 3.0]])
    got = per_rank(run(row_forward, [x[:, :2], x[:, 2:]], W, b, 2), 2, (1, 2), "every rank holds the (B, out) "
                   "output", "row-parallel, N = 2")
    for r in range(2):
        expect_close(got[r], F.linear(x, W, b), "sum over ranks of x_r W_r^T, plus the bias ONCE", what=f"rank {r}")


@check("tp_mlp_forward on 2 ranks equals the unsharded GeLU MLP on every rank, with one all-reduce")
def mlp_small(run):
    g = torch.Generator().manual_seed(0)
    x, w1, b1 = torch.randn(3, 4, generator=g), torch.randn(6, 4, generator=g), torch.randn(6, generator=g)
    w2, b2 = torch.randn(5, 6, generator=g), torch.randn(5, generator=g)
    got = run(mlp, x, w1, b1, w2, b2, 2)["out"]
    if not isinstance(got, (list, tuple)) or len(got) != 2:
        raise Fail("tp_mlp_forward returns (outputs, allreduces)", f"your code returned {describe(got)}")
    outs = per_rank(got[0], 2, (3, 5), "one (B, out) output per rank", "MLP, N = 2")
    for r in range(2):
        expect_close(outs[r], mlp_oracle(x, w1, b1, w2, b2), "column-parallel W1, GeLU, row-parallel W2 (all-reduce, "
                     "then b2 once) equals the unsharded MLP", what=f"rank {r}'s output")
    expect_equal(got[1], 1, "the Megatron MLP needs exactly one all-reduce in the forward pass", what="allreduces")
