"""nlp/temperature_sampling against Hugging Face transformers: the reference
(solutions/nlp/temperature_sampling.py) and the grader's oracle (graders/nlp/temperature_sampling.py)
agree with ``TemperatureLogitsWarper`` followed by softmax (transformers/generation/logits_process.py,
and the sampling step of ``GenerationMixin._sample`` in transformers/generation/utils.py) on random
inputs, with top-k/top-p filters (HF's own warpers) applied before; T = 0 is ``generate``'s greedy
branch (argmax); and under the same global seed the reference draws exactly the tokens that
``_sample`` draws with ``torch.multinomial(softmax(scores), 1)``."""
import pytest
import torch

from mlkata.engine import load_module
from helpers import ROOT

transformers = pytest.importorskip("transformers")
from transformers import TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper  # noqa: E402

REF = load_module(str(ROOT / "solutions" / "nlp" / "temperature_sampling.py"), "twins_nlp_temperature_reference")
ORACLE = load_module(str(ROOT / "graders" / "nlp" / "temperature_sampling.py"), "twins_nlp_temperature_grader")
IDS = torch.zeros(1, 1, dtype=torch.long)          # the warpers ignore input_ids


def hf_probs(x, t):
    return torch.softmax(TemperatureLogitsWarper(float(t))(IDS, x), dim=-1)


def random_case(seed):
    g = torch.Generator().manual_seed(seed)
    B = int(torch.randint(1, 6, (1,), generator=g))
    V = int(torch.randint(1, 50, (1,), generator=g))
    dtype = torch.float64 if seed % 3 == 0 else torch.float32
    scale = float(10 ** torch.empty(1).uniform_(-1, 1.5, generator=g))
    x = (torch.randn(B, V, generator=g, dtype=torch.float64) * scale).to(dtype)
    t = [0.01, 0.2, 0.7, 1.0, 1.7, 5.0, 100.0, float(torch.empty(1).uniform_(0.05, 3, generator=g))][seed % 8]
    return x, t


@pytest.mark.parametrize("seed", range(200))
def test_probs_match_temperature_warper_and_softmax(seed):
    x, t = random_case(seed)
    x0 = x.clone()
    want = hf_probs(x, t)
    tol = dict(atol=1e-12, rtol=1e-9) if x.dtype == torch.float64 else dict(atol=1e-6, rtol=1e-5)
    got = REF.temperature_probs(x, t)
    assert got.dtype == want.dtype and got.shape == want.shape
    torch.testing.assert_close(got, want, **tol)
    torch.testing.assert_close(ORACLE.oracle_probs(x, t), want, **tol)
    assert torch.equal(x, x0)


@pytest.mark.parametrize("seed", range(60))
def test_filtered_logits_match_hf_warper_chain(seed):
    """generate() applies temperature, then top-k / top-p; the exercise receives logits already
    filtered. Top-k does not depend on T, so filter-then-temperature equals HF's chain; for top-p
    the filter is given HF's temperature-scaled scores, which have the same -inf pattern."""
    x, t = random_case(1000 + seed)
    k = max(1, x.size(-1) // 3)
    hf_k = torch.softmax(TopKLogitsWarper(k)(IDS, TemperatureLogitsWarper(float(t))(IDS, x)), -1)
    filtered = TopKLogitsWarper(k)(IDS, x)
    torch.testing.assert_close(REF.temperature_probs(filtered, t), hf_k, atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(ORACLE.oracle_probs(filtered, t), hf_k, atol=1e-6, rtol=1e-5)
    scaled = TemperatureLogitsWarper(float(t))(IDS, x)
    hf_p = TopPLogitsWarper(0.8)(IDS, scaled)
    filtered_p = x.masked_fill(hf_p == float("-inf"), float("-inf"))
    torch.testing.assert_close(REF.temperature_probs(filtered_p, t), torch.softmax(hf_p, -1), atol=1e-6, rtol=1e-5)
    assert bool((REF.temperature_probs(filtered_p, t)[hf_p == float("-inf")] == 0).all())


@pytest.mark.parametrize("seed", range(30))
def test_sampling_draws_what_generate_draws(seed):
    """_sample: probs = softmax(warped scores); next = multinomial(probs, 1).squeeze(1)."""
    x, t = random_case(2000 + seed)
    torch.manual_seed(seed)
    want = torch.multinomial(hf_probs(x, t), num_samples=1).squeeze(1)
    torch.manual_seed(seed)
    got = REF.sample_next_token(x, t)                      # generator=None: the global generator
    assert got.dtype == torch.int64 and torch.equal(got, want)
    g1, g2 = torch.Generator().manual_seed(seed), torch.Generator().manual_seed(seed)
    assert torch.equal(REF.sample_next_token(x, t, generator=g1),
                       torch.multinomial(hf_probs(x, t), 1, generator=g2).squeeze(1))


def test_zero_and_negative_temperature_match_generate():
    """HF refuses T <= 0 in the warper and points to greedy decoding (do_sample=False: argmax)."""
    x = torch.tensor([[0.0, 2.0, 2.0, -1.0], [float("-inf"), -3.0, -1.0, float("-inf")]])
    with pytest.raises(ValueError, match="greedy"):
        TemperatureLogitsWarper(0.0)
    with pytest.raises(ValueError):
        TemperatureLogitsWarper(-0.5)
    greedy = torch.argmax(x, dim=-1)                         # generate's do_sample=False branch
    assert torch.equal(REF.sample_next_token(x, 0.0), greedy)
    assert torch.equal(REF.temperature_probs(x, 0.0), torch.nn.functional.one_hot(greedy, 4).float())
    assert torch.equal(ORACLE.oracle_probs(x, 0.0), torch.nn.functional.one_hot(greedy, 4).float())
    for fn in (REF.temperature_probs, REF.sample_next_token):
        with pytest.raises(ValueError):
            fn(x, -0.5)
