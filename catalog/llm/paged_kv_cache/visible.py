"""Visible checks: one sequence filling two blocks, two sequences taking blocks in turn, a fork
whose first append copies the shared partial block, and paged attention for two sequences."""
import math

import torch
import torch.nn.functional as F

from mlkata.checks import check, expect_close, expect_equal, probe


def _snapshot(cache):
    tables = getattr(cache, "block_tables", None)
    lengths = getattr(cache, "lengths", None)
    refs = getattr(cache, "ref_counts", None)
    return {"tables": {s: list(t) for s, t in tables.items()} if isinstance(tables, dict) else repr(tables),
            "lengths": dict(lengths) if isinstance(lengths, dict) else repr(lengths),
            "refs": [int(r) for r in refs] if isinstance(refs, (list, tuple, torch.Tensor)) else repr(refs),
            "free": cache.num_free_blocks()}


@probe
def program(sub, num_blocks, block_size, H, d, ops, dtype=None):
    """Run ``ops`` on one PagedKVCache and report each op's result (or the exception it raised)
    and the cache's state after it; at the end, the pools.  An op is ("append", seq, k, v),
    ("fork", src, dst), ("free", seq), ("gather", seq) or ("attend", q, seq_ids)."""
    kwargs = {} if dtype is None else {"dtype": dtype}
    cache = sub.PagedKVCache(num_blocks, block_size, H, d, **kwargs)
    steps = []
    for op in ops:
        name, args = op[0], op[1:]
        try:
            if name == "attend":
                result = sub.paged_attention(args[0], cache, args[1])
            else:
                result = getattr(cache, name)(*args)
            error = None
        except NotImplementedError:
            raise
        except Exception as e:  # noqa: BLE001 - the check decides which exception is right
            result, error = None, type(e).__name__
        steps.append({"op": name, "error": error, "result": result, "state": _snapshot(cache)})
    return {"steps": steps, "k_pool": cache.k_pool, "v_pool": cache.v_pool}


def tokens(seed, T, H=2, d=3, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(T, H, d, generator=g, dtype=dtype), torch.randn(T, H, d, generator=g, dtype=dtype)


def attention(q, k, v):
    """One query per head over T keys: q [H, d], k and v [T, H, d] -> [H, d]."""
    return F.scaled_dot_product_attention(q.unsqueeze(1), k.transpose(0, 1), v.transpose(0, 1)).squeeze(1)


@check("one sequence of 6 tokens with block_size 4 takes blocks [0, 1]; gather returns its tokens")
def one_sequence(run):
    k, v = tokens(0, 6)
    got = run(program, 4, 4, 2, 3, [("append", 7, k[:5], v[:5]), ("append", 7, k[5:], v[5:]), ("gather", 7)])
    state = got["steps"][1]["state"]
    expect_equal(state["tables"], {7: [0, 1]}, "6 tokens need ceil(6 / 4) = 2 blocks, taken smallest id first",
                 what="block_tables after 5 + 1 tokens")
    expect_equal(state["lengths"], {7: 6}, "lengths counts the tokens stored", what="lengths")
    expect_equal(state["free"], 2, "4 blocks, 2 held: 2 free", what="num_free_blocks()")
    expect_close(got["steps"][2]["result"], [k, v], "gather returns the keys and values in position order",
                 what="gather(7)")


@check("two sequences take blocks in turn: A -> 0, B -> 1, A's fifth token -> block 2")
def two_sequences(run):
    ka, va = tokens(1, 5)
    kb, vb = tokens(2, 3)
    got = run(program, 6, 4, 2, 3, [("append", 0, ka[:4], va[:4]), ("append", 1, kb, vb),
                                    ("append", 0, ka[4:], va[4:]), ("gather", 0), ("gather", 1)])
    expect_equal(got["steps"][2]["state"]["tables"], {0: [0, 2], 1: [1]}, "a sequence takes a new block only when "
                 "its last one is full, always the smallest free id", what="block_tables")
    pool = got["k_pool"]
    expect_close(pool[2, 0], ka[4], "token p of a sequence sits at pool[table[p // block_size], p % block_size]",
                 what="k_pool[2, 0] (A's token 4)")
    expect_close([got["steps"][3]["result"], got["steps"][4]["result"]], [[ka, va], [kb, vb]],
                 "gather reads each sequence's blocks in table order", what="[gather(0), gather(1)]")


@check("fork shares every block; the fork's first append copies the shared, partly filled last block")
def fork_copy_on_write(run):
    k, v = tokens(3, 6)
    kn, vn = tokens(4, 1)
    got = run(program, 6, 4, 2, 3, [("append", 0, k, v), ("fork", 0, 1), ("append", 1, kn, vn),
                                    ("gather", 0), ("gather", 1)])
    after_fork, after_append = got["steps"][1]["state"], got["steps"][2]["state"]
    expect_equal(after_fork["tables"], {0: [0, 1], 1: [0, 1]}, "fork copies the block table, not the blocks",
                 what="block_tables after fork(0, 1)")
    expect_equal(after_append["tables"], {0: [0, 1], 1: [0, 2]}, "the fork's partial last block (1) is shared: "
                 "copy it into the smallest free block (2) before writing; the full block 0 stays shared",
                 what="block_tables after appending one token to the fork")
    expect_equal(after_append["refs"][:3], [2, 1, 1], "block 0 is held by both tables, blocks 1 and 2 by one each",
                 what="ref_counts[:3]")
    expect_close([got["steps"][3]["result"], got["steps"][4]["result"]],
                 [[k, v], [torch.cat([k, kn]), torch.cat([v, vn])]],
                 "the original keeps its 6 tokens; the fork has them plus its own new token",
                 what="[gather(0), gather(1)]")


@check("paged_attention: one query per sequence over all of that sequence's tokens")
def attend_two(run):
    ka, va = tokens(5, 6)
    kb, vb = tokens(6, 3)
    q = torch.randn(2, 2, 3, generator=torch.Generator().manual_seed(7))
    got = run(program, 5, 4, 2, 3, [("append", 10, ka, va), ("append", 20, kb, vb), ("attend", q, [20, 10])])
    want = torch.stack([attention(q[0], kb, vb), attention(q[1], ka, va)])
    expect_close(got["steps"][2]["result"], want, "row b attends over every token of sequence seq_ids[b], per head, "
                 "softmax(q k^T / sqrt(d)) v", what="paged_attention(q, cache, [20, 10])")
