"""llm/int8_quantization: the reference's parameters equal PyTorch's MinMaxObserver and
PerChannelMinMaxObserver (symmetric int8, affine int8 and uint8), its codes and dequantized values
equal torch.quantize_per_tensor / quantize_per_channel (deprecated in torch 2.13: the warning is
silenced here, and the test skips once they are gone), the graders' transcription of those equals
torch too, and int8_linear equals the float layer on the dequantized operands."""
import warnings

import pytest
import torch
import torch.nn.functional as F

from mlkata import catalog, grading
from mlkata.engine import load_module
from helpers import ROOT

EX = catalog.get("llm/int8_quantization")
QTYPE = {torch.int8: torch.qint8, torch.uint8: torch.quint8}


@pytest.fixture(scope="module")
def ref():
    return load_module(str(ROOT / "solutions" / "llm" / "int8_quantization.py"), "twin_ref_int8")


@pytest.fixture(scope="module")
def grader():
    return grading.check_module("hidden", EX)


def torch_quantize(x, scale, zp, dtype, axis=None):
    if not hasattr(torch, "quantize_per_tensor"):
        pytest.skip("torch no longer ships quantize_per_tensor")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if axis is None:
            q = torch.quantize_per_tensor(x, float(scale), int(zp), QTYPE[dtype])
        else:
            q = torch.quantize_per_channel(x, scale.double(), zp, axis, QTYPE[dtype])
        return q.int_repr(), q.dequantize()


@pytest.mark.parametrize("seed", range(8))
def test_parameters_agree_with_observers(ref, seed):
    observer = pytest.importorskip("torch.ao.quantization.observer")
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(4, 6, generator=g) * 3 + (seed - 4)
    for sym, dt in ((True, torch.int8), (False, torch.int8), (False, torch.uint8)):
        qs = torch.per_tensor_symmetric if sym else torch.per_tensor_affine
        obs = observer.MinMaxObserver(dtype=QTYPE[dt], qscheme=qs)
        obs(x)
        want_s, want_z = obs.calculate_qparams()
        s, z = ref.compute_qparams(x, sym, dt)
        torch.testing.assert_close(s.reshape(1), want_s)
        assert int(z) == int(want_z)
        qs = torch.per_channel_symmetric if sym else torch.per_channel_affine
        obs = observer.PerChannelMinMaxObserver(ch_axis=1, dtype=QTYPE[dt], qscheme=qs)
        obs(x)
        want_s, want_z = obs.calculate_qparams()
        s, z = ref.compute_qparams(x, sym, dt, axis=1)
        torch.testing.assert_close(s, want_s.float())
        assert torch.equal(z, want_z.long())


@pytest.mark.parametrize("seed", range(8))
def test_codes_agree_with_torch_quantizers(ref, grader, seed):
    g = torch.Generator().manual_seed(100 + seed)
    x = torch.randn(5, 7, generator=g) * 4
    x[0, :4] = torch.tensor([0.5, 1.5, -2.5, 2.5]) * 0.25                  # exact ties
    for dt in (torch.int8, torch.uint8):
        for sym in ((True, False) if dt is torch.int8 else (False,)):
            for axis in (None, 0, 1):
                s, z = ref.compute_qparams(x, sym, dt, axis=axis)
                want_q, want_x = torch_quantize(x, s, z, dt, axis)
                assert torch.equal(ref.quantize(x, s, z, dt, axis=axis), want_q)
                torch.testing.assert_close(ref.dequantize(want_q, s, z, axis=axis), want_x)
                oracle_q, oracle_x = grader.torch_codes(x, s, z, dt, axis)
                assert torch.equal(oracle_q, want_q)
                torch.testing.assert_close(oracle_x, want_x)
    s, z = torch.tensor(0.25), torch.tensor(5)
    assert torch.equal(ref.quantize(x, s, z, torch.int8), torch_quantize(x, s, z, torch.int8)[0])


def test_int8_linear_matches_the_dequantized_float_layer(ref):
    g = torch.Generator().manual_seed(7)
    x, w, b = torch.randn(6, 32, generator=g), torch.randn(10, 32, generator=g), torch.randn(10, generator=g)
    s_x, z_x = ref.compute_qparams(x, False, torch.uint8)
    s_w, z_w = ref.compute_qparams(w, True, torch.int8, axis=0)
    x_hat = torch_quantize(x, s_x, z_x, torch.uint8)[1]
    w_hat = torch_quantize(w, s_w, z_w, torch.int8, axis=0)[1]
    torch.testing.assert_close(ref.int8_linear(x, w, b), F.linear(x_hat, w_hat, b), rtol=1e-5, atol=1e-5)
