"""transformer/positional_encoding: the reference table and the grader's float64 oracle agree with
Hugging Face's DistilBERT table (transformers.models.distilbert.modeling_distilbert.
_create_sinusoidal_embeddings: interleaved sin/cos, exponent 2 * (j // 2) / dim, odd dims allowed),
and the grader's float32 tolerance covers what a textbook float32 implementation really produces."""
import math

import pytest
import torch

from mlkata import catalog, grading
from mlkata.engine import load_module
from helpers import ROOT

EX = catalog.get("transformer/positional_encoding")
SIZES = [(1, 1), (5, 1), (7, 2), (16, 8), (33, 12), (40, 7), (25, 33), (512, 64), (300, 9)]


@pytest.fixture(scope="module")
def ref():
    return load_module(str(ROOT / "solutions" / "transformer" / "positional_encoding.py"),
                       "twin_ref_transformer_positional_encoding")


@pytest.fixture(scope="module")
def grader():
    return grading.check_module("hidden", EX)


@pytest.fixture(scope="module")
def hf_table():
    distilbert = pytest.importorskip("transformers.models.distilbert.modeling_distilbert")

    def table(n_pos, dim):
        return distilbert._create_sinusoidal_embeddings(n_pos, dim, torch.empty(n_pos, dim))
    return table


@pytest.mark.parametrize("max_len,d_model", SIZES)
def test_reference_and_oracle_agree_with_distilbert(ref, grader, hf_table, max_len, d_model):
    want = hf_table(max_len, d_model)                      # float64 numpy, rounded to float32
    oracle = grader.oracle_table(max_len, d_model)
    torch.testing.assert_close(oracle.float(), want, rtol=0, atol=1e-7)
    ref64 = ref.sinusoidal_positional_encoding(max_len, d_model, dtype=torch.float64)
    assert ref64.dtype == torch.float64
    torch.testing.assert_close(ref64.float(), want, rtol=0, atol=1e-7)
    ref32 = ref.sinusoidal_positional_encoding(max_len, d_model)
    assert ref32.dtype == torch.float32
    torch.testing.assert_close(ref32, want, rtol=0, atol=grader.float32_atol(max_len))
    module = ref.PositionalEncoding(d_model, max_len=max_len).eval()
    torch.testing.assert_close(module.pe, want, rtol=0, atol=grader.float32_atol(max_len))


@pytest.mark.parametrize("max_len,d_model", [(10000, 12), (10000, 64), (5000, 7), (2048, 512)])
def test_float32_tolerance_covers_the_textbook_implementation(grader, max_len, d_model):
    """The PyTorch tutorial's float32 table (exp of -2i log(10000) / d) is within the graders' atol."""
    pos = torch.arange(max_len).unsqueeze(1)
    div = torch.exp(torch.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
    pe = torch.zeros(max_len, d_model)
    pe[:, 0::2] = torch.sin(pos * div)
    pe[:, 1::2] = torch.cos(pos * div[: d_model // 2])
    err = (pe.double() - grader.oracle_table(max_len, d_model)).abs().max().item()
    assert err < grader.float32_atol(max_len) / 2, err
