"""Hidden graders of llm/paged_kv_cache: random programs of appends, forks and frees are replayed
on an oracle (block tables by the smallest-free-id rule, reference counts, contiguous keys and
values per sequence); after every operation the learner's tables, lengths, counts and free-block
count must match, and at the end every live token must sit at its (block, slot) in the pools and
gather must return it; errors leave the state unchanged; paged attention agrees with torch's
attention over each sequence's contiguous keys and values."""
import math

import torch

from mlkata.checks import Fail, check, expect, expect_close, expect_equal, visible_module

V = visible_module("llm/paged_kv_cache")


class Oracle:
    """What the contract says the cache holds, without pools: tables, lengths, counts, tokens."""

    def __init__(self, num_blocks, block_size):
        self.bs, self.refs = block_size, [0] * num_blocks
        self.tables, self.lengths, self.k, self.v = {}, {}, {}, {}

    def free_count(self):
        return self.refs.count(0)

    def _take(self):
        b = self.refs.index(0)
        self.refs[b] = 1
        return b

    def append(self, seq, k, v):
        table, length = list(self.tables.get(seq, [])), self.lengths.get(seq, 0)
        copy = length % self.bs != 0 and self.refs[table[-1]] > 1
        need = math.ceil((length + k.size(0)) / self.bs) - len(table) + int(copy)
        if need > self.free_count():
            return "RuntimeError"
        if copy:
            self.refs[table[-1]] -= 1
            table[-1] = self._take()
        while len(table) * self.bs < length + k.size(0):
            table.append(self._take())
        self.tables[seq], self.lengths[seq] = table, length + k.size(0)
        self.k[seq] = torch.cat([self.k[seq], k]) if seq in self.k else k
        self.v[seq] = torch.cat([self.v[seq], v]) if seq in self.v else v
        return None

    def fork(self, src, dst):
        if src not in self.tables:
            return "KeyError"
        if dst in self.tables:
            return "ValueError"
        self.tables[dst], self.lengths[dst] = list(self.tables[src]), self.lengths[src]
        self.k[dst], self.v[dst] = self.k[src], self.v[src]
        for b in self.tables[dst]:
            self.refs[b] += 1
        return None

    def free(self, seq):
        if seq not in self.tables:
            return "KeyError"
        for b in self.tables.pop(seq):
            self.refs[b] -= 1
        del self.lengths[seq], self.k[seq], self.v[seq]
        return None

    def gather(self, seq):
        return "KeyError" if seq not in self.tables else None

    def state(self):
        return {"tables": {s: list(t) for s, t in self.tables.items()}, "lengths": dict(self.lengths),
                "refs": list(self.refs), "free": self.free_count()}


RULES = {
    "tables": "block tables: a new block only when the last one is full, always the smallest free id; fork copies the "
              "table; copy-on-write replaces a shared, partly filled last block before writing into it",
    "lengths": "lengths counts the tokens each live sequence holds (a forked sequence starts with its source's)",
    "refs": "ref_counts: 1 when allocated, +1 per fork, -1 per free or copy-on-write; 0 means free",
    "free": "num_free_blocks() is the number of blocks whose count is 0",
}


def replay(run, num_blocks, block_size, ops, label, H=2, d=3, dtype=None, strict=True):
    """Run ``ops`` on the learner's cache and on the oracle; compare every step and the final pools
    (with ``strict=False`` only the exceptions: the caller judges the results)."""
    got = run(V.program, num_blocks, block_size, H, d, ops, dtype=dtype)
    oracle = Oracle(num_blocks, block_size)
    for i, (op, step) in enumerate(zip(ops, got["steps"])):
        name = op[0]
        want_error = getattr(oracle, name)(*op[1:]) if name != "attend" else None
        if step["error"] != want_error:
            rule = ("a call the pool cannot serve raises RuntimeError (before changing anything)"
                    if want_error == "RuntimeError" else "fork to an existing id raises ValueError; an unknown id "
                    "raises KeyError" if want_error else "this call is valid and must not raise")
            raise Fail(rule, f"step {i} ({name}{' ' + str(op[1]) if len(op) > 1 and isinstance(op[1], int) else ''}; "
                             f"{label}): expected {want_error or 'no exception'}, your code "
                             f"{'raised ' + step['error'] if step['error'] else 'raised nothing'}")
        if not strict:
            continue
        want = oracle.state()
        for key in ("tables", "lengths", "refs", "free"):
            expect_equal(step["state"][key], want[key], RULES[key],
                         what=f"{key} after step {i} ({name}; {label})")
        if name == "gather" and want_error is None:
            expect_close(step["result"], [oracle.k[op[1]], oracle.v[op[1]]], "gather returns the sequence's keys and "
                         "values in position order, read through its block table", rtol=0, atol=0,
                         what=f"gather({op[1]}) at step {i} ({label})")
    for seq, table in (oracle.tables if strict else {}).items():
        blocks = torch.tensor(table)
        for pool, want in ((got["k_pool"], oracle.k[seq]), (got["v_pool"], oracle.v[seq])):
            stored = pool[blocks].flatten(0, 1)[:oracle.lengths[seq]]
            expect_close(stored, want, "token p of a sequence is stored at pool[table[p // block_size], "
                         "p % block_size] (k_pool and v_pool are [num_blocks, block_size, H, d])", rtol=0, atol=0,
                         what=f"the pool slots of sequence {seq} at the end ({label})")
    return got, oracle


def toks(seed, T, H=2, d=3):
    return V.tokens(seed, T, H, d)


@check("random appends of 1-6 tokens to three sequences: tables, lengths, counts, pools and gather", points=2)
def random_appends(run):
    for trial in range(3):
        g = torch.Generator().manual_seed(100 + trial)
        bs = 2 + trial
        ops = []
        for step in range(9):
            seq = int(torch.randint(0, 3, (1,), generator=g))
            T = int(torch.randint(1, 7, (1,), generator=g))
            ops.append(("append", seq, *toks(1000 * trial + step, T)))
        ops += [("gather", s) for s in range(3)]
        replay(run, 40, bs, ops, f"block_size={bs}, trial {trial}")


@check("free returns blocks to the pool; the next allocations reuse the smallest free ids")
def free_and_reuse(run):
    ops = [("append", 0, *toks(1, 5)), ("append", 1, *toks(2, 3)), ("append", 2, *toks(3, 4)),
           ("free", 0), ("append", 3, *toks(4, 6)), ("append", 1, *toks(5, 2)), ("free", 2),
           ("append", 1, *toks(6, 1)), ("gather", 1), ("gather", 3)]
    replay(run, 8, 2, ops, "block_size=2, 8 blocks")


@check("too few free blocks: append raises RuntimeError and changes nothing; a smaller append then fits")
def out_of_blocks(run):
    ops = [("append", 0, *toks(1, 7)), ("append", 1, *toks(2, 6)),       # 2 + 2 of 5 blocks (size 4)
           ("append", 1, *toks(3, 7)),                                   # needs 3 more: only 1 free
           ("append", 2, *toks(4, 5)),                                   # a new sequence needing 2: refused too
           ("append", 1, *toks(5, 2)), ("append", 1, *toks(6, 1)),       # fits: 8 then 9 tokens
           ("gather", 1), ("gather", 2)]
    replay(run, 5, 4, ops, "5 blocks of 4")


@check("fork shares blocks without copying; freeing the source keeps the fork intact")
def fork_shares(run):
    ops = [("append", 0, *toks(1, 8)), ("fork", 0, 1), ("fork", 1, 2), ("gather", 2), ("free", 0),
           ("gather", 1), ("free", 1), ("gather", 2), ("append", 3, *toks(2, 4))]
    replay(run, 6, 4, ops, "block_size=4, two forks of a full-block sequence")


@check("copy-on-write: writing into a shared, partly filled last block copies it first -- from either side", points=2)
def copy_on_write(run):
    ops = [("append", 0, *toks(1, 6)), ("fork", 0, 1), ("append", 1, *toks(2, 1)),   # the fork copies block 1
           ("append", 0, *toks(3, 3)),                                                # source: no longer shared
           ("fork", 0, 2), ("append", 0, *toks(4, 2)),                                # now the SOURCE writes first
           ("fork", 1, 3), ("append", 3, *toks(5, 5)),                                # copy, then new blocks
           ("gather", 0), ("gather", 1), ("gather", 2), ("gather", 3)]
    replay(run, 16, 4, ops, "block_size=4")
    full = [("append", 0, *toks(6, 4)), ("fork", 0, 1), ("append", 1, *toks(7, 2)), ("gather", 0), ("gather", 1)]
    replay(run, 4, 4, full, "a full shared block is never written, so nothing is copied")
    tight = [("append", 0, *toks(8, 3)), ("fork", 0, 1), ("append", 1, *toks(9, 1)), ("append", 0, *toks(10, 1))]
    replay(run, 2, 4, tight, "2 blocks: the first copy fits, the second side then owns block 0 alone")
    none_left = [("append", 0, *toks(11, 3)), ("fork", 0, 1), ("append", 2, *toks(12, 1)),
                 ("append", 1, *toks(13, 1)), ("gather", 1)]
    replay(run, 2, 4, none_left, "no block left for the copy: RuntimeError, nothing changed")


@check("invalid calls raise and change nothing: fork onto an existing id, unknown source, free or gather unknown")
def invalid_calls(run):
    ops = [("append", 0, *toks(1, 3)), ("append", 1, *toks(2, 2)), ("fork", 0, 1), ("fork", 5, 6),
           ("free", 9), ("gather", 9), ("gather", 0), ("gather", 1)]
    replay(run, 4, 2, ops, "block_size=2")


@check("paged_attention agrees with torch's attention over each sequence's tokens (different lengths, forks, "
       "float64)", points=2)
def attention_batch(run):
    H, d = 3, 4
    ops = [("append", 0, *toks(1, 9, H, d)), ("append", 1, *toks(2, 1, H, d)), ("fork", 0, 2),
           ("append", 2, *toks(3, 4, H, d)), ("append", 3, *toks(4, 6, H, d)), ("append", 0, *toks(5, 1, H, d))]
    q = torch.randn(4, H, d, generator=torch.Generator().manual_seed(6)) * 2
    seq_ids = [2, 0, 3, 1]
    got, oracle = replay(run, 20, 4, ops + [("attend", q, seq_ids)], f"H={H}, d={d}", H=H, d=d, strict=False)
    want = torch.stack([V.attention(q[b], oracle.k[s], oracle.v[s]) for b, s in enumerate(seq_ids)])
    expect_close(got["steps"][-1]["result"], want, "row b is softmax(q[b] K^T / sqrt(d)) V over every token of "
                 "seq_ids[b], per head", what="paged_attention(q, cache, [2, 0, 3, 1])")
    ops64 = [("append", 0, *(t.double() for t in toks(7, 5, H, d))), ("append", 1, *(t.double() for t in toks(8, 2, H, d)))]
    q64 = q[:2].double()
    got64, o64 = replay(run, 6, 4, ops64 + [("attend", q64, [1, 0])], "float64", H=H, d=d, dtype=torch.float64,
                        strict=False)
    want64 = torch.stack([V.attention(q64[0], o64.k[1], o64.v[1]), V.attention(q64[1], o64.k[0], o64.v[0])])
    expect_close(got64["steps"][-1]["result"], want64, "a float64 cache and query give a float64 result",
                 rtol=1e-10, atol=1e-12, check_dtype=True, what="paged_attention (float64)")
