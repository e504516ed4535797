"""llm/paged_kv_cache: no production library runs here (vLLM's PagedAttention needs a GPU build),
so the twin is a contiguous KV cache: on random programs of appends, forks and frees the
reference's gather equals the tokens appended (each sequence's own history, forks included) and
its paged attention equals torch's scaled_dot_product_attention over them; the graders' oracle
predicts the reference's block tables and counts step by step, and blocks are conserved."""
import math

import pytest
import torch
import torch.nn.functional as F

from mlkata import catalog, grading
from mlkata.engine import load_module
from helpers import ROOT

EX = catalog.get("llm/paged_kv_cache")


@pytest.fixture(scope="module")
def ref():
    return load_module(str(ROOT / "solutions" / "llm" / "paged_kv_cache.py"), "twin_ref_paged")


@pytest.fixture(scope="module")
def grader():
    return grading.check_module("hidden", EX)


@pytest.mark.parametrize("seed", range(10))
def test_reference_agrees_with_a_contiguous_cache_and_the_oracle(ref, grader, seed):
    g = torch.Generator().manual_seed(seed)
    H, d, bs, n_blocks = 2, 4, 1 + seed % 4, 30
    cache, oracle = ref.PagedKVCache(n_blocks, bs, H, d), grader.Oracle(n_blocks, bs)
    contiguous: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}
    next_id = 0
    for step in range(25):
        live = sorted(contiguous)
        action = int(torch.randint(0, 10, (1,), generator=g))
        if action < 6 or not live:
            seq = live[int(torch.randint(0, len(live), (1,), generator=g))] if live and action < 4 else next_id
            next_id = max(next_id, seq + 1)
            T = int(torch.randint(1, 6, (1,), generator=g))
            k, v = torch.randn(T, H, d, generator=g), torch.randn(T, H, d, generator=g)
            want_error = oracle.append(seq, k, v)
            if want_error:
                with pytest.raises(RuntimeError):
                    cache.append(seq, k, v)
                continue
            cache.append(seq, k, v)
            old = contiguous.get(seq, (k[:0], v[:0]))
            contiguous[seq] = (torch.cat([old[0], k]), torch.cat([old[1], v]))
        elif action < 8:
            src = live[int(torch.randint(0, len(live), (1,), generator=g))]
            cache.fork(src, next_id)
            oracle.fork(src, next_id)
            contiguous[next_id] = contiguous[src]
            next_id += 1
        else:
            seq = live[int(torch.randint(0, len(live), (1,), generator=g))]
            cache.free(seq)
            oracle.free(seq)
            del contiguous[seq]
        assert {s: list(t) for s, t in cache.block_tables.items()} == oracle.state()["tables"]
        assert list(cache.ref_counts) == oracle.state()["refs"]
        held = {b for t in cache.block_tables.values() for b in t}
        assert cache.num_free_blocks() == n_blocks - len(held)          # every block is held or free
        for seq, (k, v) in contiguous.items():
            got_k, got_v = cache.gather(seq)
            assert torch.equal(got_k, k) and torch.equal(got_v, v)
            assert len(cache.block_tables[seq]) == math.ceil(len(k) / bs)
    if contiguous:
        seqs = sorted(contiguous)
        q = torch.randn(len(seqs), H, d, generator=g)
        want = torch.stack([F.scaled_dot_product_attention(q[b].unsqueeze(1), contiguous[s][0].transpose(0, 1),
                                                            contiguous[s][1].transpose(0, 1)).squeeze(1)
                            for b, s in enumerate(seqs)])
        torch.testing.assert_close(ref.paged_attention(q, cache, seqs), want)
