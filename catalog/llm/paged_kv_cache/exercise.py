"""A paged KV cache with block tables and copy-on-write sharing (vLLM's PagedAttention).

A serving engine decodes many sequences at once, and each one's KV cache grows by one token per
step to a length nobody knows in advance.  Reserving ``max_len`` contiguous slots per sequence
wastes most of the memory; PagedAttention (Kwon et al., "Efficient Memory Management for Large
Language Model Serving with PagedAttention", 2023) manages the cache like virtual memory instead:
one pool of fixed-size *blocks* (pages) of ``block_size`` tokens, and per sequence a *block table*
listing which physical block holds its tokens ``0..block_size-1``, ``block_size..2*block_size-1``,
and so on.  A sequence takes a new block only when its last one is full, so at most
``block_size - 1`` slots per sequence are wasted.  Blocks can be shared: beam search or parallel
sampling *fork* a sequence by copying its block table (not its keys and values) and counting
references; a shared block that is about to be written is first copied (*copy-on-write*).

Implement the cache and one decoding step of attention that reads it.  No library twin runs here
(vLLM needs a GPU); the graders compare with a contiguous cache and torch's attention.  Builds on
``transformer/kv_cache`` (what a KV cache holds and why).
"""
import math

import torch


class PagedKVCache:
    """A block pool shared by many sequences.

    Args:
        num_blocks: physical blocks in the pool (ids ``0 .. num_blocks - 1``).
        block_size: tokens per block.
        num_heads, head_dim: H and d of each token's key and value.
        dtype: of the pools.

    Attributes (the graders read them):
        block_size: as given.
        k_pool, v_pool: ``[num_blocks, block_size, H, d]``, initially zeros; the token at position
            p of a sequence lives at ``pool[block_table[p // block_size], p % block_size]``.
        block_tables: ``dict`` sequence id -> ``list`` of physical block ids, in position order.
        lengths: ``dict`` sequence id -> number of tokens stored.
        ref_counts: ``list`` of ints, one per physical block: how many block tables hold it
            (0 = free).

    Rules:
        * Allocation always takes the free block with the SMALLEST id.
        * A sequence holds exactly ``ceil(length / block_size)`` blocks.
        * Any failing call (unknown sequence, an existing fork target, too few free blocks) raises
          and changes nothing at all.
    """

    def __init__(self, num_blocks: int, block_size: int, num_heads: int, head_dim: int,
                 dtype: torch.dtype = torch.float32):
        ### BEGIN SOLUTION
        self.block_size = block_size
        self.k_pool = torch.zeros(num_blocks, block_size, num_heads, head_dim, dtype=dtype)
        self.v_pool = torch.zeros(num_blocks, block_size, num_heads, head_dim, dtype=dtype)
        self.block_tables: dict[int, list[int]] = {}
        self.lengths: dict[int, int] = {}
        self.ref_counts = [0] * num_blocks
        ### END SOLUTION

    def num_free_blocks(self) -> int:
        """How many physical blocks no sequence holds."""
        ### BEGIN SOLUTION
        return sum(1 for r in self.ref_counts if r == 0)
        ### END SOLUTION

    def append(self, seq_id: int, k: torch.Tensor, v: torch.Tensor) -> None:
        """Store the keys and values of the next ``T >= 1`` tokens of ``seq_id``.

        Args:
            seq_id: a sequence; an unknown id starts a new, empty sequence.
            k, v: ``[T, H, d]``, the tokens at positions ``length .. length + T - 1``.

        Takes new blocks (smallest free ids first) as the positions need them.  Copy-on-write:
        if the sequence's last block is shared (reference count > 1) and not full, it is first
        replaced in this sequence's table by a fresh block holding a copy of its contents (the
        other holders keep the original, whose count drops by one); a full shared block is never
        written, so it stays shared.  Raises ``RuntimeError`` if the pool has too few free blocks
        for everything the call needs (the copy included), changing nothing.
        """
        ### BEGIN SOLUTION
        bs = self.block_size
        table = self.block_tables.get(seq_id, [])
        length = self.lengths.get(seq_id, 0)
        T = k.size(0)
        copy_last = length % bs != 0 and self.ref_counts[table[-1]] > 1
        needed = math.ceil((length + T) / bs) - len(table) + int(copy_last)
        if needed > self.num_free_blocks():
            raise RuntimeError(f"out of KV-cache blocks: need {needed}, {self.num_free_blocks()} free")
        table = list(table)
        if copy_last:                                         # copy-on-write of the partial last block
            shared = table[-1]
            fresh = self._allocate()
            self.k_pool[fresh] = self.k_pool[shared]
            self.v_pool[fresh] = self.v_pool[shared]
            self.ref_counts[shared] -= 1
            table[-1] = fresh
        while len(table) * bs < length + T:
            table.append(self._allocate())
        for i in range(T):
            p = length + i
            block, slot = table[p // bs], p % bs
            self.k_pool[block, slot] = k[i]
            self.v_pool[block, slot] = v[i]
        self.block_tables[seq_id] = table
        self.lengths[seq_id] = length + T
        ### END SOLUTION

    def gather(self, seq_id: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The keys and values of ``seq_id`` in position order: two ``[length, H, d]`` tensors
        (new tensors, read through the block table).  Raises ``KeyError`` for an unknown id."""
        ### BEGIN SOLUTION
        table, length = self.block_tables[seq_id], self.lengths[seq_id]
        blocks = torch.tensor(table, dtype=torch.long)
        k = self.k_pool[blocks].flatten(0, 1)[:length]         # (n_blocks * bs, H, d) -> (length, H, d)
        v = self.v_pool[blocks].flatten(0, 1)[:length]
        return k, v
        ### END SOLUTION

    def fork(self, src: int, dst: int) -> None:
        """Make ``dst`` a copy of ``src`` that shares all of its blocks (each block's reference
        count grows by one; no key or value is copied, no block allocated).  Raises ``KeyError``
        if ``src`` is unknown, ``ValueError`` if ``dst`` already exists."""
        ### BEGIN SOLUTION
        if src not in self.block_tables:
            raise KeyError(src)
        if dst in self.block_tables:
            raise ValueError(f"sequence {dst} already exists")
        self.block_tables[dst] = list(self.block_tables[src])
        self.lengths[dst] = self.lengths[src]
        for block in self.block_tables[dst]:
            self.ref_counts[block] += 1
        ### END SOLUTION

    def free(self, seq_id: int) -> None:
        """Forget ``seq_id``: each of its blocks loses a reference and becomes free at zero.
        Raises ``KeyError`` for an unknown id."""
        ### BEGIN SOLUTION
        table = self.block_tables.pop(seq_id)
        del self.lengths[seq_id]
        for block in table:
            self.ref_counts[block] -= 1
        ### END SOLUTION

    def _allocate(self) -> int:
        ### BEGIN SOLUTION
        block = next(i for i, r in enumerate(self.ref_counts) if r == 0)   # the smallest free id
        self.ref_counts[block] = 1
        return block
        ### END SOLUTION


def paged_attention(q: torch.Tensor, cache: PagedKVCache, seq_ids: list[int]) -> torch.Tensor:
    """One decoding step for a batch of sequences of different lengths, reading the paged cache.

    Args:
        q: ``[B, H, d]``, the query of the newest token of each sequence (its key and value are
            already in the cache).
        cache: the cache.
        seq_ids: the B sequence ids, in the order of ``q``'s rows.

    Returns:
        ``[B, H, d]``: for each b and head h, ``softmax(q[b, h] . K^T / sqrt(d)) V`` over ALL
        tokens of sequence ``seq_ids[b]`` (head h's keys and values).  The dtype of ``q``.
    """
    ### BEGIN SOLUTION
    outs = []
    for b, seq in enumerate(seq_ids):
        k, v = cache.gather(seq)                                   # (T, H, d)
        scores = torch.einsum("hd,thd->ht", q[b], k) / math.sqrt(q.size(-1))   # (H, T)
        outs.append(torch.einsum("ht,thd->hd", scores.softmax(dim=-1), v))      # (H, d)
    return torch.stack(outs)                                       # (B, H, d)
    ### END SOLUTION
