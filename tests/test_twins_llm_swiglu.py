"""Library twins of llm/swiglu: the reference and the grader's oracle agree with ``transformers``'
``LlamaMLP`` built from a tiny ``LlamaConfig`` (no download): same parameter names and shapes, the
state_dict loads strictly both ways, and outputs and gradients match.  The bare gate agrees with
``F.silu(gate) * up`` and with transformers' ``ACT2FN["silu"]``.
"""
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from mlkata.engine import load_module

transformers = pytest.importorskip("transformers")
from transformers import LlamaConfig  # noqa: E402
from transformers.activations import ACT2FN  # noqa: E402
from transformers.models.llama.modeling_llama import LlamaMLP  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
REF = load_module(str(ROOT / "solutions" / "llm" / "swiglu.py"), "_twin_ref_swiglu")
GRADER = load_module(str(ROOT / "graders" / "llm" / "swiglu.py"), "_twin_grader_swiglu")

SIZES = [(8, 22), (16, 43), (32, 86), (6, 6)]      # LlamaConfig wants an even head_dim (RoPE)


def llama_mlp(hidden, inter):
    config = LlamaConfig(hidden_size=hidden, intermediate_size=inter, hidden_act="silu", mlp_bias=False,
                         num_attention_heads=1, num_key_value_heads=1)
    return LlamaMLP(config)


@pytest.mark.parametrize("hidden,inter", SIZES)
def test_same_parameters_and_strict_state_dict_both_ways(hidden, inter):
    ours, theirs = REF.SwiGLUMLP(hidden, inter), llama_mlp(hidden, inter)
    assert {n: p.shape for n, p in ours.named_parameters()} == {n: p.shape for n, p in theirs.named_parameters()}
    ours.load_state_dict(theirs.state_dict(), strict=True)
    theirs.load_state_dict(REF.SwiGLUMLP(hidden, inter).state_dict(), strict=True)


@pytest.mark.parametrize("hidden,inter", SIZES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_outputs_and_gradients_match_llama_mlp(hidden, inter, dtype):
    theirs = llama_mlp(hidden, inter).to(dtype)
    ours = REF.SwiGLUMLP(hidden, inter).to(dtype)
    ours.load_state_dict(theirs.state_dict(), strict=True)
    x = torch.randn(2, 3, hidden, generator=torch.Generator().manual_seed(hidden), dtype=dtype)
    tol = dict(rtol=1e-12, atol=1e-12) if dtype == torch.float64 else dict(rtol=1e-5, atol=1e-6)
    want = theirs(x)
    torch.testing.assert_close(ours(x), want, **tol)
    torch.testing.assert_close(GRADER.oracle_mlp(x, {k: v.detach() for k, v in theirs.state_dict().items()}),
                               want.detach(), **tol)
    g = torch.randn(want.shape, generator=torch.Generator().manual_seed(1), dtype=dtype)
    (want * g).sum().backward()
    (ours(x) * g).sum().backward()
    for (n, p), (m, q) in zip(sorted(ours.named_parameters()), sorted(theirs.named_parameters())):
        assert n == m
        torch.testing.assert_close(p.grad, q.grad, **tol)


@pytest.mark.parametrize("seed", range(4))
def test_gate_matches_silu_activation(seed):
    g = torch.Generator().manual_seed(seed)
    gate = torch.randn(4, 9, generator=g, dtype=torch.float64) * 10
    up = torch.randn(4, 9, generator=g, dtype=torch.float64)
    want = ACT2FN["silu"](gate) * up
    torch.testing.assert_close(REF.swiglu(gate, up), want, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(GRADER.oracle_gate(gate, up), want, rtol=0, atol=0)
    torch.testing.assert_close(F.silu(gate) * up, want, rtol=0, atol=0)
