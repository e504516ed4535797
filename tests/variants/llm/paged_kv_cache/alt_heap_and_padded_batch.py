# CORRECT, written differently: free ids in a heap (heapq gives the smallest), vectorised writes with index_put_, copy-on-write decided per call through a helper, and paged attention over a padded batch with a length mask (as the real kernels do).
import heapq
import math

import torch


class PagedKVCache:
    def __init__(self, num_blocks, block_size, num_heads, head_dim, dtype=torch.float32):
        self.block_size = block_size
        shape = (num_blocks, block_size, num_heads, head_dim)
        self.k_pool, self.v_pool = torch.zeros(shape, dtype=dtype), torch.zeros(shape, dtype=dtype)
        self.block_tables, self.lengths = {}, {}
        self.ref_counts = [0] * num_blocks
        self._free = list(range(num_blocks))          # a min-heap of free ids

    def num_free_blocks(self):
        return len(self._free)

    def _take(self):
        b = heapq.heappop(self._free)
        self.ref_counts[b] = 1
        return b

    def _release(self, b):
        self.ref_counts[b] -= 1
        if self.ref_counts[b] == 0:
            heapq.heappush(self._free, b)

    def append(self, seq_id, k, v):
        old = self.block_tables.get(seq_id, [])
        n = self.lengths.get(seq_id, 0)
        partial_shared = bool(old) and n % self.block_size and self.ref_counts[old[-1]] > 1
        total_blocks = -(-(n + len(k)) // self.block_size)
        if total_blocks - len(old) + bool(partial_shared) > len(self._free):
            raise RuntimeError("not enough free blocks")
        table = old[:]
        if partial_shared:
            new = self._take()
            self.k_pool[new].copy_(self.k_pool[table[-1]])
            self.v_pool[new].copy_(self.v_pool[table[-1]])
            self._release(table[-1])
            table[-1] = new
        table += [self._take() for _ in range(total_blocks - len(table))]
        pos = torch.arange(n, n + len(k))
        blocks = torch.tensor(table)[pos // self.block_size]
        slots = pos % self.block_size
        self.k_pool.index_put_((blocks, slots), k)
        self.v_pool.index_put_((blocks, slots), v)
        self.block_tables[seq_id], self.lengths[seq_id] = table, n + len(k)

    def gather(self, seq_id):
        n = self.lengths[seq_id]
        pos = torch.arange(n)
        blocks = torch.tensor(self.block_tables[seq_id], dtype=torch.long)[pos // self.block_size]
        return self.k_pool[blocks, pos % self.block_size], self.v_pool[blocks, pos % self.block_size]

    def fork(self, src, dst):
        table = self.block_tables[src]
        if dst in self.block_tables:
            raise ValueError("fork target exists")
        for b in table:
            self.ref_counts[b] += 1
        self.block_tables[dst], self.lengths[dst] = table[:], self.lengths[src]

    def free(self, seq_id):
        table = self.block_tables[seq_id]
        del self.block_tables[seq_id], self.lengths[seq_id]
        for b in table:
            self._release(b)


def paged_attention(q, cache, seq_ids):
    kv = [cache.gather(s) for s in seq_ids]
    T = max(k.size(0) for k, _ in kv)
    pad = lambda t: torch.cat([t, t.new_zeros(T - t.size(0), *t.shape[1:])])   # noqa: E731
    K = torch.stack([pad(k) for k, _ in kv])                 # (B, T, H, d)
    Vv = torch.stack([pad(v) for _, v in kv])
    valid = torch.arange(T)[None, :] < torch.tensor([k.size(0) for k, _ in kv])[:, None]   # (B, T)
    logits = torch.einsum("bhd,bthd->bht", q, K) / math.sqrt(q.size(-1))
    logits = logits.masked_fill(~valid[:, None, :], -math.inf)
    return torch.einsum("bht,bthd->bhd", logits.softmax(-1), Vv)
