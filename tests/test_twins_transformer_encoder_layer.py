"""transformer/encoder_layer: the graders compare with torch.nn.TransformerEncoderLayer on its slow
(autograd) path.  These tests pin what that relies on: torch's eval fast path and its nested-tensor
path (through nn.TransformerEncoder) agree with the slow path -- and with the reference -- at
non-padding positions, and only differ at padding positions (zeros there), which is why the
contract leaves padding outputs ungraded."""
import pytest
import torch

from mlkata import catalog, grading
from mlkata.engine import load_module
from helpers import ROOT

EX = catalog.get("transformer/encoder_layer")
pytestmark = pytest.mark.filterwarnings("ignore:.*nested:UserWarning")


@pytest.fixture(scope="module")
def ref():
    return load_module(str(ROOT / "solutions" / "transformer" / "encoder_layer.py"), "twin_ref_transformer_encoder_layer")


@pytest.fixture(scope="module")
def visible():
    return grading.check_module("visible", EX)


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("seed", range(4))
def test_reference_agrees_with_every_torch_path(ref, visible, norm_first, seed):
    torch_layer, params, cfg = visible.torch_encoder(8, 2, 12, "gelu" if seed % 2 else "relu", 1e-5, norm_first, seed)
    mine = ref.EncoderLayer(**cfg)
    mine.load_state_dict(torch_layer.state_dict())
    mine.eval()
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(3, 6, 8, generator=g)
    kpm = torch.zeros(3, 6, dtype=torch.bool)
    kpm[0, 4:] = True
    kpm[2, 1:] = True
    slow = torch_layer(x, src_key_padding_mask=kpm)                    # what the graders compare with
    assert slow.requires_grad                                          # (the autograd path, not the fast path)
    with torch.no_grad():
        fast = torch_layer(x, src_key_padding_mask=kpm)                # eval fast path
        stack = torch.nn.TransformerEncoder(torch_layer, 1, enable_nested_tensor=True).eval()
        nested = stack(x, src_key_padding_mask=kpm)                    # nested tensors: padding dropped
        out = mine(x, src_key_padding_mask=kpm)
    valid = ~kpm
    torch.testing.assert_close(out[valid], slow.detach()[valid])
    torch.testing.assert_close(fast[valid], slow.detach()[valid])
    torch.testing.assert_close(nested[valid], slow.detach()[valid])
    torch.testing.assert_close(out[kpm], slow.detach()[kpm])           # the reference computes padding rows too
    if not norm_first:
        assert torch.equal(nested[kpm], torch.zeros_like(nested[kpm]))  # ...where torch's nested path gives zeros


def test_torch_paths_disagree_on_a_fully_padded_sequence():
    """Why every graded sequence keeps a non-padding position: for a fully padded one torch's own
    paths disagree (the autograd path attends to nothing and stays finite, the fast path gives NaN)."""
    layer = torch.nn.TransformerEncoderLayer(8, 2, 12, dropout=0.0, batch_first=True).eval()
    x = torch.randn(2, 3, 8)
    kpm = torch.zeros(2, 3, dtype=torch.bool)
    kpm[1] = True
    slow = layer(x, src_key_padding_mask=kpm)
    with torch.no_grad():
        fast = layer(x, src_key_padding_mask=kpm)
    assert slow.isfinite().all()
    assert fast[1].isnan().all() and fast[0].isfinite().all()
