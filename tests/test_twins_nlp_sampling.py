"""nlp/sampling against Hugging Face transformers: the reference (solutions/nlp/sampling.py) and
the grader's own torch oracle (graders/nlp/sampling.py) agree exactly with TopKLogitsWarper and
TopPLogitsWarper (transformers/generation/logits_process.py) on many random 2-D inputs -- ties,
p near 0 and 1, min_tokens_to_keep > 1, -inf already present, float32 and float64 -- and, for
higher ranks, with the warper applied to the flattened (rows, V) view."""
import pytest
import torch

from mlkata.engine import load_module
from helpers import ROOT

transformers = pytest.importorskip("transformers")
from transformers import TopKLogitsWarper, TopPLogitsWarper  # noqa: E402

REF = load_module(str(ROOT / "solutions" / "nlp" / "sampling.py"), "twins_nlp_sampling_reference")
ORACLE = load_module(str(ROOT / "graders" / "nlp" / "sampling.py"), "twins_nlp_sampling_grader")
NEG_INF = float("-inf")
IDS = torch.zeros(1, 1, dtype=torch.long)      # the warpers ignore input_ids


def hf_top_k(x, k):
    return TopKLogitsWarper(top_k=k)(IDS, x)


def hf_top_p(x, p, m=1):
    return TopPLogitsWarper(top_p=p, min_tokens_to_keep=m)(IDS, x)


def random_case(seed):
    """A random 2-D input with one of several awkward features, plus k, p and min_tokens_to_keep."""
    g = torch.Generator().manual_seed(seed)
    B = int(torch.randint(1, 7, (1,), generator=g))
    V = int(torch.randint(1, 41, (1,), generator=g))
    dtype = torch.float64 if seed % 3 == 0 else torch.float32
    scale = float(10 ** torch.empty(1).uniform_(-1, 1.3, generator=g))
    x = torch.randn(B, V, generator=g, dtype=torch.float64) * scale
    kind = seed % 5
    if kind == 1:                                   # ties everywhere
        x = x.round()
    elif kind == 2:                                 # -inf already present (never a whole row)
        x = x.masked_fill(torch.rand(B, V, generator=g) < 0.4, NEG_INF)
        x[:, int(torch.randint(0, V, (1,), generator=g))] = 0.0
    elif kind == 3:                                 # huge logits
        x = x * 1e3
    x = x.to(dtype)
    k = int(torch.randint(1, V + 4, (1,), generator=g))
    p = [0.0, 1e-9, 1e-4, 0.999, 1 - 1e-7, 1.0, float(torch.rand(1, generator=g))][seed % 7]
    m = [1, 1, 2, 3, V, V + 2][seed % 6]
    return x, k, p, m


def same(a, b):
    return a.dtype == b.dtype and a.shape == b.shape and torch.equal(a, b)


@pytest.mark.parametrize("seed", range(400))
def test_reference_and_oracle_match_transformers_2d(seed):
    x, k, p, m = random_case(seed)
    x0 = x.clone()
    want_k, want_p = hf_top_k(x, k), hf_top_p(x, p, m)
    assert same(REF.top_k_filter(x, k), want_k)
    assert same(ORACLE.oracle_top_k(x, k), want_k)
    assert same(REF.top_p_filter(x, p, m), want_p)
    assert same(ORACLE.oracle_top_p(x, p, m), want_p)
    assert torch.equal(x, x0)                       # nobody modifies the input


@pytest.mark.parametrize("shape", [(7,), (2, 3, 11), (2, 2, 3, 5), (1, 1, 1)])
def test_higher_ranks_match_the_warpers_on_the_flattened_rows(shape):
    for seed in range(20):
        x, k, p, m = random_case(1000 + seed)
        g = torch.Generator().manual_seed(seed)
        x = (torch.randn(shape, generator=g, dtype=torch.float64) * 3).to(x.dtype)
        rows = x.reshape(-1, shape[-1])
        want_k = hf_top_k(rows, k).reshape(shape)
        want_p = hf_top_p(rows, p, min(m, 4)).reshape(shape)
        assert same(REF.top_k_filter(x, k), want_k) and same(ORACLE.oracle_top_k(x, k), want_k)
        assert same(REF.top_p_filter(x, p, min(m, 4)), want_p)
        assert same(ORACLE.oracle_top_p(x, p, min(m, 4)), want_p)


def test_documented_warper_behaviour():
    """What the contract copies from transformers, pinned: ties with the k-th survive, k is
    clamped to V, the crossing token is kept, p=1 drops only probability-0 tokens."""
    x = torch.tensor([[3.0, 2.0, 0.0, 2.0]])
    assert torch.equal(hf_top_k(x, 2), torch.tensor([[3.0, 2.0, NEG_INF, 2.0]]))
    assert torch.equal(hf_top_k(x, 10), x)
    lp = torch.tensor([[0.3, 0.5, 0.05, 0.15]]).log()
    assert torch.equal(hf_top_p(lp, 0.7) == NEG_INF, torch.tensor([[False, False, True, True]]))
    big = torch.tensor([[0.0, -1e4, 1.0, NEG_INF]])
    assert torch.equal(hf_top_p(big, 1.0), torch.tensor([[0.0, NEG_INF, 1.0, NEG_INF]]))
    assert torch.equal(REF.top_p_filter(big, 1.0), hf_top_p(big, 1.0))
    with pytest.raises((IndexError, RuntimeError)):   # the warper itself is 2-D only
        hf_top_p(torch.randn(5), 0.5)


def test_grader_cases_are_clear_of_the_p_boundary():
    """clear_p picks p at least 1e-4 away from every partial sum, so float32/float64 and either
    summation order decide alike; the alternative variants show it on the grader's inputs."""
    x = ORACLE.rand_logits(0, (3, 4, 9))
    p = ORACLE.clear_p(x, [0.5, 0.55, 0.6])
    s = x.double().sort(-1, descending=True).values.softmax(-1)
    above = s.cumsum(-1) - s
    assert (above - p).abs().min() > 1e-4
