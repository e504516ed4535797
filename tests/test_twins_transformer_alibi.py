"""transformer/alibi: the reference's slopes equal transformers' BLOOM ``_get_alibi_slopes`` for 1 to
40 heads; BLOOM's ``build_alibi_tensor`` (slope * key position, relying on softmax's invariance to a
per-row constant) gives the same attention weights as the reference's relative bias -m (p - j);
and the reference's attention equals torch's scaled_dot_product_attention with that bias."""
import pytest
import torch
import torch.nn.functional as F

from mlkata import catalog, grading
from mlkata.engine import load_module
from helpers import ROOT

EX = catalog.get("transformer/alibi")
bloom = pytest.importorskip("transformers.models.bloom.modeling_bloom")


@pytest.fixture(scope="module")
def ref():
    return load_module(str(ROOT / "solutions" / "transformer" / "alibi.py"), "twin_ref_alibi")


@pytest.fixture(scope="module")
def grader():
    return grading.check_module("hidden", EX)


def test_slopes_agree_with_bloom(ref, grader):
    for n in range(1, 41):
        want = bloom._get_alibi_slopes(n, torch.device("cpu")).float()
        torch.testing.assert_close(ref.alibi_slopes(n), want)
        torch.testing.assert_close(grader.V.oracle_slopes(n), want)


@pytest.mark.parametrize("H,T", [(4, 6), (6, 5), (12, 3)])
def test_bloom_bias_gives_the_same_attention(ref, H, T):
    q, k, v = (torch.randn(1, H, T, 8, dtype=torch.float64) for _ in range(3))
    alibi = bloom.build_alibi_tensor(torch.ones(1, T), H, torch.float64).view(1, H, 1, T)
    causal = torch.full((T, T), float("-inf"), dtype=torch.float64).triu(1)
    want = F.scaled_dot_product_attention(q, k, v, attn_mask=alibi + causal)
    torch.testing.assert_close(ref.alibi_attention(q, k, v), want)
    bias = ref.alibi_bias(ref.alibi_slopes(H).double(), T, T)
    torch.testing.assert_close(F.scaled_dot_product_attention(q, k, v, attn_mask=bias), want)
