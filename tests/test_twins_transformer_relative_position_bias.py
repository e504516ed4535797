"""transformer/relative_position_bias: the reference's buckets equal transformers'
T5Attention._relative_position_bucket for both directions and several sizes, its bias equals
T5Attention.compute_bias (encoder and decoder, with past_seen_tokens as the query offset) for the
same learned table, and the graders' oracles equal the library too."""
import pytest
import torch

from mlkata import catalog, grading
from mlkata.engine import load_module
from helpers import ROOT

EX = catalog.get("transformer/relative_position_bias")
t5 = pytest.importorskip("transformers.models.t5.modeling_t5")


@pytest.fixture(scope="module")
def ref():
    return load_module(str(ROOT / "solutions" / "transformer" / "relative_position_bias.py"), "twin_ref_t5bias")


@pytest.fixture(scope="module")
def grader():
    return grading.check_module("hidden", EX)


@pytest.mark.parametrize("num_buckets,max_distance", [(32, 128), (8, 16), (64, 256), (16, 20)])
def test_buckets_agree_with_t5(ref, grader, num_buckets, max_distance):
    rel = torch.arange(-2000, 2001)
    for bi in (True, False):
        want = t5.T5Attention._relative_position_bucket(rel, bidirectional=bi, num_buckets=num_buckets,
                                                        max_distance=max_distance)
        assert torch.equal(ref.relative_position_bucket(rel, bi, num_buckets, max_distance), want)
        assert torch.equal(grader.V.oracle_bucket(rel, bi, num_buckets, max_distance), want)


@pytest.mark.parametrize("is_decoder,L,S,past", [(False, 5, 7, 0), (True, 4, 4, 0), (True, 1, 9, 8)])
def test_bias_agrees_with_t5_compute_bias(ref, grader, is_decoder, L, S, past):
    from transformers import T5Config
    config = T5Config(d_model=8, d_kv=4, num_heads=2, relative_attention_num_buckets=16,
                      relative_attention_max_distance=20, is_decoder=is_decoder)
    attn = t5.T5Attention(config, has_relative_attention_bias=True)
    table = attn.relative_attention_bias.weight.detach()
    want = attn.compute_bias(L, S, past_seen_tokens=past).detach()
    got = ref.compute_bias(table, L, S, not is_decoder, max_distance=20, query_offset=past)
    torch.testing.assert_close(got, want)
    torch.testing.assert_close(grader.V.oracle_bias(table, L, S, not is_decoder, 20, past), want)
