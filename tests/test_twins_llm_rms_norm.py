"""Library twins of llm/rms_norm: the reference and the grader's oracles agree with Hugging Face's
``LlamaRMSNorm`` (transformers.models.llama.modeling_llama) and with ``torch.nn.RMSNorm`` -- in
float32, float16 and bfloat16, forward and gradients.

torch.nn.RMSNorm's eps defaults to ``torch.finfo(x.dtype).eps`` (None); LLaMA's is 1e-6: the
comparisons pass eps explicitly, and one test pins the difference of the defaults.
"""
from pathlib import Path

import pytest
import torch

from mlkata.engine import load_module

transformers = pytest.importorskip("transformers")
from transformers.models.llama.modeling_llama import LlamaRMSNorm  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
REF = load_module(str(ROOT / "solutions" / "llm" / "rms_norm.py"), "_twin_ref_rms_norm")
GRADER = load_module(str(ROOT / "graders" / "llm" / "rms_norm.py"), "_twin_grader_rms_norm")

SHAPES = [(4, 16), (2, 3, 64), (7,), (1, 5, 4096)]


def data(seed, shape, dtype, scale=3.0):
    g = torch.Generator().manual_seed(seed)
    x = (torch.randn(shape, generator=g) * scale).to(dtype)
    w = (1 + 0.5 * torch.randn(shape[-1], generator=g)).to(dtype)
    return x, w


def hf(w, eps, dtype):
    layer = LlamaRMSNorm(w.shape[0], eps=eps).to(dtype)
    with torch.no_grad():
        layer.weight.copy_(w)
    return layer


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("eps", [1e-6, 1e-5])
def test_float32_matches_llama_rmsnorm_and_torch(shape, eps):
    x, w = data(len(shape), shape, torch.float32)
    want = hf(w, eps, torch.float32)(x)
    torch.testing.assert_close(REF.rms_norm(x, w, eps), want, rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(GRADER.llama_rms(x, w, eps), want, rtol=0, atol=0)
    torch.testing.assert_close(GRADER.torch_rms(x, w, eps), want, rtol=1e-6, atol=1e-6)
    layer = REF.RMSNorm(shape[-1], eps=eps)
    with torch.no_grad():
        layer.weight.copy_(w)
    torch.testing.assert_close(layer(x), want, rtol=1e-6, atol=1e-6)
    tn = torch.nn.RMSNorm(shape[-1], eps=eps)
    with torch.no_grad():
        tn.weight.copy_(w)
    torch.testing.assert_close(tn(x), want, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
@pytest.mark.parametrize("shape", SHAPES)
def test_half_precision_matches_llama_rmsnorm_bit_for_bit(dtype, shape):
    x, w = data(10 + len(shape), shape, dtype, scale=200.0 if dtype == torch.float16 else 5.0)
    want = hf(w, 1e-6, dtype)(x)
    assert want.dtype == dtype and torch.isfinite(want).all()
    assert torch.equal(REF.rms_norm(x, w, 1e-6), want)
    assert torch.equal(GRADER.llama_rms(x, w, 1e-6), want)


def test_mixed_dtypes_follow_llama_rmsnorm_promotion():
    """A float32 weight with a bfloat16 input: LlamaRMSNorm casts the normalised x back to bfloat16
    and multiplies by the float32 weight, so the output is float32; the reference does the same."""
    x, w = data(20, (3, 32), torch.bfloat16)
    want = hf(w.float(), 1e-6, torch.float32)(x)
    got = REF.rms_norm(x, w.float(), 1e-6)
    assert want.dtype == got.dtype == torch.float32
    assert torch.equal(got, want)


@pytest.mark.parametrize("shape", SHAPES[:3])
def test_gradients_match_llama_rmsnorm(shape):
    x, w = data(30 + len(shape), shape, torch.float32)
    g = torch.randn(shape, generator=torch.Generator().manual_seed(3))
    x1, x2 = x.clone().requires_grad_(True), x.clone().requires_grad_(True)
    layer = hf(w, 1e-6, torch.float32)
    ours = REF.RMSNorm(shape[-1])
    with torch.no_grad():
        ours.weight.copy_(w)
    (layer(x1) * g).sum().backward()
    (ours(x2) * g).sum().backward()
    torch.testing.assert_close(x2.grad, x1.grad, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(ours.weight.grad, layer.weight.grad, rtol=1e-5, atol=1e-6)


def test_defaults_llama_eps_vs_torch_eps():
    assert LlamaRMSNorm(8).variance_epsilon == REF.RMSNorm(8).eps == 1e-6
    assert torch.nn.RMSNorm(8).eps is None       # torch uses finfo(dtype).eps at call time
    x, w = data(40, (2, 8), torch.float32, scale=1e-3)
    assert not torch.allclose(torch.nn.RMSNorm(8)(x), REF.RMSNorm(8)(x), rtol=1e-3)
    torch.testing.assert_close(REF.rms_norm(x, torch.ones(8)), hf(torch.ones(8), 1e-6, torch.float32)(x))
