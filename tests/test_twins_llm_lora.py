"""Library twins of llm/lora: the reference and the grader's oracle agree with the explicit LoRA
formula and torch's Kaiming-uniform init, and with Hugging Face PEFT (in the test extra): a LoRA
adapter injected by ``peft.inject_adapter_in_model`` -- PEFT's public entry point, stable across its
versions -- into a one-layer model: forward, merge, unmerge.

PEFT's LoRA Linear (huggingface/peft ``src/peft/tuners/lora/layer.py``, read through the project's
code search): ``update_layer`` builds ``lora_A = nn.Linear(in, r, bias=False)`` and
``lora_B = nn.Linear(r, out, bias=False)`` and sets ``scaling = lora_alpha / r``;
``reset_lora_parameters`` runs ``nn.init.kaiming_uniform_(lora_A.weight, a=math.sqrt(5))`` and
``nn.init.zeros_(lora_B.weight)``; ``forward`` is ``base_layer(x) + lora_B(lora_A(dropout(x))) *
scaling``; ``get_delta_weight`` is ``(lora_B.weight @ lora_A.weight) * scaling``, which ``merge``
adds to and ``unmerge`` subtracts from ``base_layer.weight``.
"""
import math
from pathlib import Path

import pytest
import torch

from mlkata.engine import load_module

ROOT = Path(__file__).resolve().parent.parent
REF = load_module(str(ROOT / "solutions" / "llm" / "lora.py"), "_twin_ref_lora")
VISIBLE = load_module(str(ROOT / "catalog" / "llm" / "lora" / "visible.py"), "_twin_visible_lora")

CASES = [(0, 16, 8, 4, 8.0, True), (1, 7, 11, 2, 16.0, False), (2, 32, 32, 8, 8.0, True), (3, 10, 6, 1, 0.5, True)]


def make(seed, fin, fout, r, bias, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    base = torch.nn.Linear(fin, fout, bias=bias, dtype=dtype)
    with torch.no_grad():
        base.weight.copy_(torch.randn(fout, fin, generator=g, dtype=dtype))
        if bias:
            base.bias.copy_(torch.randn(fout, generator=g, dtype=dtype))
    A = torch.randn(r, fin, generator=g, dtype=dtype)
    B = torch.randn(fout, r, generator=g, dtype=dtype)
    x = torch.randn(3, 5, fin, generator=g, dtype=dtype)
    return base, A, B, x


@pytest.mark.parametrize("case", CASES)
def test_reference_matches_the_explicit_formula_merged_and_unmerged(case):
    seed, fin, fout, r, alpha, bias = case
    base, A, B, x = make(seed, fin, fout, r, bias)
    layer = REF.LoRALinear(base, r=r, alpha=alpha)
    with torch.no_grad():
        layer.lora_A.copy_(A)
        layer.lora_B.copy_(B)
    want = VISIBLE.formula(base.weight.detach(), None if base.bias is None else base.bias.detach(), A, B, alpha / r, x)
    explicit = x @ base.weight.detach().T + (alpha / r) * x @ A.T @ B.T
    if bias:
        explicit = explicit + base.bias.detach()
    torch.testing.assert_close(want, explicit, rtol=1e-12, atol=1e-12)       # the grader's oracle
    torch.testing.assert_close(layer(x), want, rtol=1e-12, atol=1e-12)
    layer.merge()
    torch.testing.assert_close(layer(x), want, rtol=1e-12, atol=1e-12)
    layer.unmerge()
    torch.testing.assert_close(layer.weight, base.weight.detach(), rtol=1e-12, atol=1e-12)


def test_reference_init_is_torch_kaiming_uniform_with_a_sqrt5():
    base = torch.nn.Linear(64, 12)
    torch.manual_seed(5)
    layer = REF.LoRALinear(base, r=6, alpha=12.0)
    torch.manual_seed(5)
    want = torch.nn.init.kaiming_uniform_(torch.empty(6, 64), a=math.sqrt(5))
    torch.testing.assert_close(layer.lora_A.detach(), want, rtol=0, atol=0)
    assert (layer.lora_B == 0).all()
    # the bound the grader checks, 1 / sqrt(in), is torch's Kaiming-uniform bound for a = sqrt(5)
    gain = torch.nn.init.calculate_gain("leaky_relu", math.sqrt(5))
    assert abs(gain * math.sqrt(3 / 64) - 1 / math.sqrt(64)) < 1e-12
    assert sorted(n for n, p in layer.named_parameters() if p.requires_grad) == ["lora_A", "lora_B"]


@pytest.mark.parametrize("case", CASES)
def test_reference_matches_peft_lora_linear(case):
    peft = pytest.importorskip("peft")

    seed, fin, fout, r, alpha, bias = case
    # float32: PEFT may keep its adapters in float32 whatever the base layer's dtype
    base, A, B, x = make(seed, fin, fout, r, bias, torch.float32)
    base_for_peft, _, _, _ = make(seed, fin, fout, r, bias, torch.float32)
    config = peft.LoraConfig(r=r, lora_alpha=alpha, lora_dropout=0.0, target_modules=["proj"])
    model = peft.inject_adapter_in_model(config, torch.nn.ModuleDict({"proj": base_for_peft}))
    peft_layer = model["proj"]
    ours = REF.LoRALinear(base, r=r, alpha=alpha)
    with torch.no_grad():
        peft_layer.lora_A["default"].weight.copy_(A)
        peft_layer.lora_B["default"].weight.copy_(B)
        ours.lora_A.copy_(A)
        ours.lora_B.copy_(B)
    assert peft_layer.scaling["default"] == ours.scaling
    torch.testing.assert_close(ours(x), peft_layer(x), rtol=1e-5, atol=1e-5)
    peft_layer.merge()
    ours.merge()
    torch.testing.assert_close(ours.weight, peft_layer.get_base_layer().weight, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(ours(x), peft_layer(x), rtol=1e-5, atol=1e-5)
    peft_layer.unmerge()
    ours.unmerge()
    torch.testing.assert_close(ours.weight, peft_layer.get_base_layer().weight, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(ours(x), peft_layer(x), rtol=1e-5, atol=1e-5)
