"""transformer/decoder_layer: the reference's causal_mask is torch's
nn.Transformer.generate_square_subsequent_mask in boolean form, and the reference layer agrees
with nn.TransformerDecoderLayer given either form of the mask, on torch's autograd path (what the
graders compare with) and under no_grad (nn.MultiheadAttention's fast path)."""
import pytest
import torch

from mlkata import catalog, grading
from mlkata.engine import load_module
from helpers import ROOT

EX = catalog.get("transformer/decoder_layer")


@pytest.fixture(scope="module")
def ref():
    return load_module(str(ROOT / "solutions" / "transformer" / "decoder_layer.py"), "twin_ref_transformer_decoder_layer")


@pytest.fixture(scope="module")
def visible():
    return grading.check_module("visible", EX)


@pytest.mark.parametrize("n", range(1, 9))
def test_causal_mask_is_torchs_square_subsequent_mask(ref, visible, n):
    float_mask = torch.nn.Transformer.generate_square_subsequent_mask(n)
    want = float_mask == float("-inf")
    assert torch.equal(ref.causal_mask(n), want)
    assert torch.equal(visible.torch_causal(n), want)           # the graders' own mask


@pytest.mark.parametrize("seed", range(6))
def test_reference_agrees_with_torch_decoder_layer(ref, visible, seed):
    g = torch.Generator().manual_seed(seed)
    T, S = 2 + seed % 4, 1 + seed
    torch_layer, params, cfg = visible.torch_decoder(8, 2, 12, "gelu" if seed % 2 else "relu", 1e-5, seed)
    mine = ref.DecoderLayer(**cfg)
    mine.load_state_dict(torch_layer.state_dict())
    mine.eval()
    tgt, memory = torch.randn(3, T, 8, generator=g), torch.randn(3, S, 8, generator=g)
    mkpm = torch.zeros(3, S, dtype=torch.bool)
    mkpm[1, S // 2 + 1:] = True
    bool_mask = ref.causal_mask(T)
    float_mask = torch.nn.Transformer.generate_square_subsequent_mask(T)
    slow = torch_layer(tgt, memory, tgt_mask=bool_mask, memory_key_padding_mask=mkpm)
    assert slow.requires_grad
    with torch.no_grad():
        fast = torch_layer(tgt, memory, tgt_mask=float_mask, memory_key_padding_mask=mkpm, tgt_is_causal=True)
        out = mine(tgt, memory, tgt_mask=bool_mask, memory_key_padding_mask=mkpm)
    torch.testing.assert_close(out, slow.detach())
    torch.testing.assert_close(fast, slow.detach())
