"""transformer/sliding_window_attention: the reference's mask equals transformers' sliding-window
causal mask (masking_utils.sdpa_mask with sliding_window_causal_mask_function, which also places
the queries with q_offset); its attention equals torch's under that mask; its cache returns and
keeps exactly what transformers' DynamicSlidingWindowLayer does (windows >= 2: with window = 1 the
layer's slice ``[-0:]`` keeps everything, where the contract keeps nothing)."""
import pytest
import torch
import torch.nn.functional as F

from mlkata import catalog, grading
from mlkata.engine import load_module
from helpers import ROOT

EX = catalog.get("transformer/sliding_window_attention")


@pytest.fixture(scope="module")
def ref():
    return load_module(str(ROOT / "solutions" / "transformer" / "sliding_window_attention.py"), "twin_ref_swa")


@pytest.fixture(scope="module")
def grader():
    return grading.check_module("hidden", EX)


@pytest.mark.parametrize("L,S,window", [(5, 5, 3), (3, 8, 2), (1, 6, 4), (7, 7, 1), (4, 4, 9), (6, 9, 5)])
def test_mask_agrees_with_transformers(ref, grader, L, S, window):
    masking = pytest.importorskip("transformers.masking_utils")
    theirs = masking.sdpa_mask(batch_size=1, q_length=L, kv_length=S, q_offset=S - L,
                               mask_function=masking.sliding_window_causal_mask_function(window),
                               allow_is_causal_skip=False)[0, 0]
    assert torch.equal(ref.sliding_window_mask(L, S, window), theirs)
    assert torch.equal(grader.V.oracle_mask(L, S, window), theirs)
    q, k, v = grader.qkv(L * S + window, (2,), L, S, dtype=torch.float64)
    torch.testing.assert_close(ref.sliding_window_attention(q, k, v, window),
                               F.scaled_dot_product_attention(q, k, v, attn_mask=theirs))


@pytest.mark.parametrize("window,sizes", [(4, [1] * 7), (2, [3, 1, 1, 4]), (5, [9, 2, 1]), (3, [1, 1, 6, 1])])
def test_cache_agrees_with_dynamic_sliding_window_layer(ref, grader, window, sizes):
    cache_utils = pytest.importorskip("transformers.cache_utils")
    theirs = cache_utils.DynamicSlidingWindowLayer(sliding_window=window)
    mine = ref.SlidingWindowCache(window)
    chunks = grader.chunks_of(window, 2, 3, sizes)
    returned, retained, seen = grader.oracle_cache(window, chunks)
    for i, (k_new, v_new) in enumerate(chunks):
        want = theirs.update(k_new, v_new)
        got = mine.update(k_new, v_new)
        for t_got, t_oracle, t_want in zip(got, returned[i], want):
            assert torch.equal(t_got, t_want) and torch.equal(t_oracle, t_want)
        assert torch.equal(mine.keys, theirs.keys) and torch.equal(mine.values, theirs.values)
        assert torch.equal(retained[i][0], theirs.keys)
        assert mine.seen == theirs.cumulative_length == seen[i]
