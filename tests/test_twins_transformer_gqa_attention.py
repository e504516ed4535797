"""transformer/gqa_attention: the reference and the graders' oracle agree with torch's
scaled_dot_product_attention(enable_gqa=True), with transformers' Llama ``repeat_kv`` and with a
``LlamaAttention`` built from a tiny random config (rotary embedding switched off: cos = 1, sin = 0)
holding the same weights."""
import pytest
import torch
import torch.nn.functional as F

from mlkata import catalog, grading
from mlkata.engine import load_module
from helpers import ROOT

EX = catalog.get("transformer/gqa_attention")


@pytest.fixture(scope="module")
def ref():
    return load_module(str(ROOT / "solutions" / "transformer" / "gqa_attention.py"), "twin_ref_transformer_gqa")


@pytest.fixture(scope="module")
def grader():
    return grading.check_module("hidden", EX)


@pytest.mark.parametrize("seed", range(12))
def test_reference_agrees_with_torch_enable_gqa(ref, grader, seed):
    g = torch.Generator().manual_seed(seed)
    H_kv = int(torch.randint(1, 4, (1,), generator=g))
    H = H_kv * int(torch.randint(1, 4, (1,), generator=g))
    batch = tuple(int(b) for b in torch.randint(1, 3, (seed % 3,), generator=g))
    L, S = (int(t) for t in torch.randint(1, 7, (2,), generator=g))
    q, k, v = grader.gqa_case(seed, H, H_kv, batch, L, S, dtype=torch.float64)
    for causal in (False, True):
        for scale in (None, 0.3):
            want = F.scaled_dot_product_attention(q, k, v, is_causal=causal, scale=scale, enable_gqa=True)
            torch.testing.assert_close(ref.grouped_query_attention(q, k, v, is_causal=causal, scale=scale), want)
            torch.testing.assert_close(grader.torch_gqa(q, k, v, causal, scale), want)


def test_repeat_kv_agrees_with_transformers_llama(ref):
    llama = pytest.importorskip("transformers.models.llama.modeling_llama")
    x = torch.randn(2, 3, 5, 4)
    for n_rep in (1, 2, 4):
        torch.testing.assert_close(ref.repeat_kv(x, n_rep), llama.repeat_kv(x, n_rep))


@pytest.mark.parametrize("H,H_kv", [(4, 4), (4, 2), (6, 3), (4, 1)])
def test_module_and_oracle_agree_with_transformers_llama_attention(ref, grader, H, H_kv):
    llama = pytest.importorskip("transformers.models.llama.modeling_llama")
    from transformers import LlamaConfig
    E, B, T = 8 * H // 2, 2, 5
    config = LlamaConfig(hidden_size=E, num_attention_heads=H, num_key_value_heads=H_kv, attention_bias=False,
                         intermediate_size=16, num_hidden_layers=1, vocab_size=10)
    config._attn_implementation = "eager"
    torch.manual_seed(H * 10 + H_kv)
    theirs = llama.LlamaAttention(config, layer_idx=0).eval()
    mine = ref.GroupedQueryAttention(E, H, H_kv)
    mine.load_state_dict(theirs.state_dict())                 # same names and shapes: q/k/v/o_proj
    x = torch.randn(B, T, E)
    hd = E // H
    identity_rope = (torch.ones(B, T, hd), torch.zeros(B, T, hd))
    causal = torch.full((T, T), float("-inf")).triu(1).expand(B, 1, T, T)
    want, _ = theirs(x, position_embeddings=identity_rope, attention_mask=causal)
    torch.testing.assert_close(mine(x), want)
    params = {n: p.detach() for n, p in theirs.named_parameters()}
    torch.testing.assert_close(grader.V.oracle_module(params, x, H, H_kv), want)
    full, _ = theirs(x, position_embeddings=identity_rope, attention_mask=None)
    torch.testing.assert_close(mine(x, is_causal=False), full)
