"""transformer/attention: the reference and the grader's weight oracle agree with torch's own
scaled_dot_product_attention and nn.MultiheadAttention, and torch still behaves the way the
contract (and hence the graders) assume: zeros for fully masked rows, top-left causal triangle,
an error for mask + is_causal, NaN in nn.MultiheadAttention's fully masked rows (not graded)."""
import pytest
import torch
import torch.nn.functional as F

from mlkata import catalog, grading
from mlkata.engine import load_module
from helpers import ROOT

EX = catalog.get("transformer/attention")


@pytest.fixture(scope="module")
def ref():
    return load_module(str(ROOT / "solutions" / "transformer" / "attention.py"), "twin_ref_transformer_attention")


@pytest.fixture(scope="module")
def grader():
    return grading.check_module("hidden", EX)


def random_mask(g, shape, p=0.5):
    return torch.rand(shape, generator=g) < p


@pytest.mark.parametrize("seed", range(20))
def test_reference_and_oracle_agree_with_torch_sdpa(ref, grader, seed):
    g = torch.Generator().manual_seed(1000 + seed)
    q, k, v = grader.sdpa_case(seed, dtype=torch.float64)
    L, S = q.shape[-2], k.shape[-2]
    for mask, causal in [(None, False), (None, True), (random_mask(g, (L, S)), False),
                         (random_mask(g, (*q.shape[:-2], L, S), 0.3), False)]:
        want = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=causal)
        out, w = ref.scaled_dot_product_attention(q, k, v, mask=mask, is_causal=causal)
        torch.testing.assert_close(out, want)
        oracle_w = grader.oracle_weights(q, k, mask, causal)
        torch.testing.assert_close(w, oracle_w)
        torch.testing.assert_close(oracle_w @ v, want)       # the oracle's weights give torch's output


def test_torch_behaviour_the_contract_relies_on():
    q = torch.randn(2, 3, 4)
    mask = torch.ones(2, 3, 3, dtype=torch.bool)
    mask[0, 1] = False
    out = F.scaled_dot_product_attention(q, q, q, attn_mask=mask)
    assert torch.equal(out[0, 1], torch.zeros(4))             # fully masked row -> zeros, not NaN
    q2, k2 = torch.zeros(2, 4), torch.zeros(5, 4)
    v2 = torch.arange(5.0).unsqueeze(-1)
    out = F.scaled_dot_product_attention(q2, k2, v2, is_causal=True)
    torch.testing.assert_close(out, torch.tensor([[0.0], [0.5]]))   # top-left: row i sees keys 0..i
    with pytest.raises(RuntimeError):
        F.scaled_dot_product_attention(q, q, q, attn_mask=mask, is_causal=True)
    mha = torch.nn.MultiheadAttention(4, 2, batch_first=True)
    kpm = torch.zeros(2, 3, dtype=torch.bool)
    kpm[0] = True
    out, w = mha(q, q, q, key_padding_mask=kpm)
    assert out[0].isnan().all() and not out[1].isnan().any()   # why fully masked MHA rows are not graded


@pytest.mark.parametrize("bias", [True, False])
def test_reference_module_agrees_with_torch_mha(ref, grader, bias):
    V = grader.V
    for seed, (B, L, S, E, H) in enumerate([(2, 3, 5, 8, 2), (1, 4, 4, 12, 3), (3, 2, 6, 6, 6)]):
        torch_mod, params = V.torch_mha(E, H, bias=bias, seed=seed)
        mod = ref.MultiHeadAttention(E, H, bias=bias)
        assert {n: p.shape for n, p in mod.named_parameters()} == {n: p.shape for n, p in params.items()}
        mod.load_state_dict(torch_mod.state_dict())
        q, k, v = grader.mha_inputs(seed, B, L, S, E)
        g = torch.Generator().manual_seed(seed)
        kpm = random_mask(g, (B, S), 0.3)
        kpm[:, 0] = False
        am = random_mask(g, (B * H, L, S), 0.3)
        am[..., 0] = False
        for kwargs in [{}, dict(key_padding_mask=kpm), dict(attn_mask=am[:1].squeeze(0)),
                       dict(attn_mask=am, key_padding_mask=kpm)]:
            want_out, want_w = torch_mod(q, k, v, **kwargs)
            out, w = mod(q, k, v, **kwargs)
            torch.testing.assert_close(out, want_out)
            torch.testing.assert_close(w, want_w)
