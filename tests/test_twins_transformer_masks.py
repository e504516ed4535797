"""transformer/masks: the reference and the grader's brute-force oracles agree with Hugging Face's
masking_utils (sdpa_mask: bool [B, 1, T, T], True = attend, keys-only padding; eager_mask: 0 /
finfo.min) and with torch.nn.Transformer.generate_square_subsequent_mask."""
import pytest
import torch

from mlkata import catalog, grading
from mlkata.engine import load_module
from helpers import ROOT

EX = catalog.get("transformer/masks")


@pytest.fixture(scope="module")
def ref():
    return load_module(str(ROOT / "solutions" / "transformer" / "masks.py"), "twin_ref_transformer_masks")


@pytest.fixture(scope="module")
def grader():
    return grading.check_module("hidden", EX)


@pytest.fixture(scope="module")
def hf():
    return pytest.importorskip("transformers.masking_utils")


@pytest.mark.parametrize("T", [1, 2, 7, 32])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16, torch.bfloat16])
def test_additive_causal_matches_torch(ref, grader, T, dtype):
    want = torch.nn.Transformer.generate_square_subsequent_mask(T, dtype=dtype)
    got = ref.to_additive_mask(ref.causal_mask(T), dtype=dtype)
    assert got.dtype == dtype and torch.equal(got, want)
    assert torch.equal(grader.brute_causal(T), want == 0)


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("kind", ["right", "left", "scattered"])
@pytest.mark.parametrize("causal", [True, False])
def test_combined_mask_matches_hf_sdpa_mask(ref, grader, hf, seed, kind, causal):
    g = torch.Generator().manual_seed(seed)
    B, T = int(torch.randint(1, 5, (1,), generator=g)), int(torch.randint(1, 9, (1,), generator=g))
    pad = grader.padding_cases(seed, B, T, kind)
    fn = hf.causal_mask_function if causal else hf.bidirectional_mask_function
    want = hf.sdpa_mask(batch_size=B, q_length=T, kv_length=T, attention_mask=pad, mask_function=fn,
                        allow_is_causal_skip=False)
    assert torch.equal(ref.build_attention_mask(pad, causal=causal), want)
    assert torch.equal(ref.build_attention_mask(pad.long(), causal=causal), want)   # tokenizer-style input
    assert torch.equal(grader.brute_combined(pad, causal), want)
    ids = torch.where(pad, torch.randint(1, 100, (B, T), generator=g), torch.zeros((), dtype=torch.long))
    assert torch.equal(ref.ids_to_padding_mask(ids, 0), pad)
    eager = hf.eager_mask(batch_size=B, q_length=T, kv_length=T, attention_mask=pad, mask_function=fn,
                          dtype=torch.float16)
    got = ref.to_additive_mask(ref.build_attention_mask(pad, causal=causal), dtype=torch.float16,
                               fill=torch.finfo(torch.float16).min)
    assert torch.equal(got, eager)


def test_lengths_mask_matches_hf_right_padding(ref, grader, hf):
    lengths = torch.tensor([5, 2, 0, 3])
    pad = ref.lengths_to_padding_mask(lengths)
    assert torch.equal(pad, grader.brute_lengths(lengths, 5))
    want = hf.sdpa_mask(batch_size=4, q_length=5, kv_length=5, attention_mask=pad, allow_is_causal_skip=False)
    assert torch.equal(ref.build_attention_mask(pad), want)
