"""transformer/flash_attention: the reference agrees with torch's scaled_dot_product_attention and
torch.logsumexp on random shapes, tiles and masks; its merge reproduces attention over key splits;
the graders' helpers (the oracle, the partial-attention helper, the result-size watcher) behave as
the checks assume -- the watcher sees the [L, S] matrix of plain attention and not the reference's."""
import pytest
import torch
import torch.nn.functional as F

from mlkata import catalog, grading
from mlkata.engine import load_module
from helpers import ROOT

EX = catalog.get("transformer/flash_attention")


@pytest.fixture(scope="module")
def ref():
    return load_module(str(ROOT / "solutions" / "transformer" / "flash_attention.py"), "twin_ref_flash")


@pytest.fixture(scope="module")
def grader():
    return grading.check_module("hidden", EX)


@pytest.mark.parametrize("seed", range(16))
def test_reference_agrees_with_torch(ref, grader, seed):
    g = torch.Generator().manual_seed(seed)
    L, S, bq, bk = (int(t) for t in torch.randint(1, 12, (4,), generator=g))
    lead = tuple(int(t) for t in torch.randint(1, 3, (seed % 3,), generator=g))
    q, k, v = grader.qkv(seed, lead, L, S, dtype=torch.float64)
    for causal in (False, True):
        scale = None if seed % 2 else 0.7
        out, lse = ref.flash_attention(q, k, v, block_q=bq, block_k=bk, is_causal=causal, scale=scale)
        torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v, is_causal=causal, scale=scale))
        want_out, want_lse = grader.V.oracle(q, k, v, causal, scale)
        torch.testing.assert_close(want_out, out)
        torch.testing.assert_close(lse, want_lse)
    x = torch.randn(*lead, S, generator=g, dtype=torch.float64) * 10
    x[..., 0] = float("-inf")
    torch.testing.assert_close(ref.online_logsumexp(x, bk), torch.logsumexp(x, dim=-1))


def test_merge_and_part_agree_with_torch(ref, grader):
    q, k, v = grader.qkv(1, (2,), 4, 10, dtype=torch.float64)
    keys = torch.rand(10, generator=torch.Generator().manual_seed(2)) < 0.4
    a, b = grader.part(q, k, v, keys), grader.part(q, k, v, ~keys)
    torch.testing.assert_close(a[0], F.scaled_dot_product_attention(q, k, v, attn_mask=keys))
    out, lse = ref.merge_attention(*a, *b)
    torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v))
    torch.testing.assert_close(lse, torch.logsumexp(q @ k.transpose(-2, -1) / 2, dim=-1))   # d = 4


def test_result_watcher_sees_the_score_matrix_only_where_it_is_built(ref, grader):
    q, k, v = grader.qkv(3, (2,), 128, 128)
    with grader.LargestResult() as plain:
        torch.softmax(q @ k.transpose(-2, -1), -1) @ v
    with grader.LargestResult() as tiled:
        ref.flash_attention(q, k, v, block_q=16, block_k=16)
    assert plain.largest == 2 * 128 * 128
    assert tiled.largest < 2 * 128 * 128 // 4
