"""transformer/rotary_embedding: the reference and the grader's complex-number oracle agree with
Hugging Face's LLaMA rotary code (transformers.models.llama.modeling_llama: LlamaRotaryEmbedding
for cos/sin, rotate_half, apply_rotary_pos_emb) -- the rotate-half layout, pairs (j, j + d/2) --
for offsets, per-sequence position ids, grouped-query shapes and two bases; and the interleaved
(Meta / RoFormer) layout is the same rotation only after permuting the head dims."""
import pytest
import torch

from mlkata import catalog, grading
from mlkata.engine import load_module
from helpers import ROOT

EX = catalog.get("transformer/rotary_embedding")


@pytest.fixture(scope="module")
def ref():
    return load_module(str(ROOT / "solutions" / "transformer" / "rotary_embedding.py"),
                       "twin_ref_transformer_rotary_embedding")


@pytest.fixture(scope="module")
def grader():
    return grading.check_module("hidden", EX)


@pytest.fixture(scope="module")
def llama():
    return pytest.importorskip("transformers.models.llama.modeling_llama")


def hf_rotary(llama, head_dim, base):
    from transformers import LlamaConfig
    config = LlamaConfig(hidden_size=head_dim * 4, num_attention_heads=4, num_key_value_heads=2,
                         max_position_embeddings=4096, rope_parameters={"rope_type": "default", "rope_theta": base})
    return llama.LlamaRotaryEmbedding(config)


@pytest.mark.parametrize("head_dim,base", [(16, 10000.0), (64, 10000.0), (32, 500000.0), (2, 10000.0)])
@pytest.mark.parametrize("offset", [0, 7, 1000])
def test_reference_and_oracle_agree_with_hf_llama(ref, grader, llama, head_dim, base, offset):
    B, Hq, Hk, T = 2, 4, 2, 5
    g = torch.Generator().manual_seed(offset + head_dim)
    q, k = torch.randn(B, Hq, T, head_dim, generator=g), torch.randn(B, Hk, T, head_dim, generator=g)
    position_ids = torch.arange(offset, offset + T).expand(B, T)
    hf_cos, hf_sin = hf_rotary(llama, head_dim, base)(q, position_ids)            # (B, T, d)
    cos, sin = ref.rope_cos_sin(torch.arange(offset, offset + T), head_dim, base=base)
    tol = dict(rtol=0, atol=grader.f32_atol(offset + T))
    torch.testing.assert_close(cos, hf_cos[0], **tol)
    torch.testing.assert_close(sin, hf_sin[0], **tol)
    o_cos, o_sin = grader.oracle_cos_sin(position_ids, head_dim, base)
    torch.testing.assert_close(o_cos.float(), hf_cos, **tol)
    torch.testing.assert_close(o_sin.float(), hf_sin, **tol)
    want_q, want_k = llama.apply_rotary_pos_emb(q, k, hf_cos, hf_sin)
    for c, s in [(hf_cos, hf_sin), (hf_cos[0], hf_sin[0])]:                      # [B, T, d] and [T, d] tables
        got_q, got_k = ref.apply_rotary_pos_emb(q, k, c, s)
        torch.testing.assert_close(got_q, want_q)
        torch.testing.assert_close(got_k, want_k)
    angle = grader.oracle_angles(position_ids, head_dim, base)
    torch.testing.assert_close(grader.oracle_rope(q, angle).float(), want_q, rtol=1e-5, atol=grader.f32_atol(offset + T, 4))
    x = torch.randn(3, head_dim, generator=g)
    torch.testing.assert_close(ref.rotate_half(x), llama.rotate_half(x))


def test_per_sequence_position_ids_match_hf(ref, llama):
    """Left padding: each sequence has its own position ids, so cos/sin are [B, T, d]."""
    B, H, T, d = 3, 2, 6, 8
    g = torch.Generator().manual_seed(5)
    q, k = torch.randn(B, H, T, d, generator=g), torch.randn(B, H, T, d, generator=g)
    position_ids = (torch.arange(T)[None] - torch.tensor([0, 2, 5])[:, None]).clamp(min=0)
    hf_cos, hf_sin = hf_rotary(llama, d, 10000.0)(q, position_ids)
    cos, sin = ref.rope_cos_sin(position_ids, d)
    torch.testing.assert_close(cos, hf_cos)
    torch.testing.assert_close(sin, hf_sin)
    for got, want in zip(ref.apply_rotary_pos_emb(q, k, cos, sin), llama.apply_rotary_pos_emb(q, k, hf_cos, hf_sin)):
        torch.testing.assert_close(got, want)


def test_interleaved_layout_is_a_permutation_of_rotate_half(ref):
    """Meta's complex-number RoPE on adjacent pairs equals rotate-half RoPE on permuted head dims:
    why the docstring must name the layout, and why graders built on one reject the other."""
    T, d = 7, 8
    x = torch.randn(1, 1, T, d, dtype=torch.float64)
    perm = torch.cat([torch.arange(0, d, 2), torch.arange(1, d, 2)])         # (0, 2, 4, 6, 1, 3, 5, 7)
    theta = 10000.0 ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)
    freqs = torch.polar(torch.ones(T, d // 2, dtype=torch.float64), torch.arange(T, dtype=torch.float64)[:, None] * theta)
    meta = torch.view_as_real(torch.view_as_complex(x.reshape(1, 1, T, d // 2, 2)) * freqs).flatten(-2)
    cos, sin = ref.rope_cos_sin(torch.arange(T), d, dtype=torch.float64)
    rot, _ = ref.apply_rotary_pos_emb(x[..., perm], x[..., perm], cos, sin)
    torch.testing.assert_close(rot, meta[..., perm])
    assert not torch.allclose(ref.apply_rotary_pos_emb(x, x, cos, sin)[0], meta)
