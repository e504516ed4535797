"""llm/speculative_decoding: the reference's accept step equals transformers' own
``_speculative_sampling`` draw for draw (batch 1: both draw K uniforms and then one multinomial,
here from a generator seeded like the global one); the graders' oracles equal the reference; and
the whole point is checked by statistics: the first two tokens the reference's loop produces follow
the target model's joint distribution, computed exactly by enumeration."""
import itertools
import math

import pytest
import torch

from mlkata import catalog, grading
from mlkata.engine import load_module
from helpers import ROOT

EX = catalog.get("llm/speculative_decoding")


@pytest.fixture(scope="module")
def ref():
    return load_module(str(ROOT / "solutions" / "llm" / "speculative_decoding.py"), "twin_ref_specdec")


@pytest.fixture(scope="module")
def grader():
    return grading.check_module("hidden", EX)


@pytest.mark.parametrize("seed", range(40))
def test_accept_agrees_with_transformers_speculative_sampling(ref, grader, seed):
    utils = pytest.importorskip("transformers.generation.utils")
    g = torch.Generator().manual_seed(seed)
    K, V = 1 + seed % 4, 3 + seed % 5
    q = grader.simplex(g, 1, K, V, spread=1.0 + seed % 3)
    p = grader.simplex(g, 1, K + 1, V, spread=1.0)
    tokens = grader.sample_rows(q, g)
    torch.manual_seed(seed)
    theirs, n_matches = utils._speculative_sampling(tokens, q.log(), K, p.log())
    n, nxt = ref.speculative_accept(tokens, q, p, torch.Generator().manual_seed(seed))
    assert int(n) == int(n_matches)
    assert theirs[0].tolist() == tokens[0, :int(n)].tolist() + [int(nxt)]
    n2, nxt2 = grader.V.oracle_accept(tokens, q, p, torch.Generator().manual_seed(seed))
    assert torch.equal(n, n2) and torch.equal(nxt, nxt2)
    torch.testing.assert_close(ref.residual_distribution(p[0, :K], q[0]), grader.V.oracle_residual(p[0, :K], q[0]))


def test_oracle_decode_equals_reference(ref, grader):
    for seed in range(5):
        target = grader.V.PrefixLM(6, seed=seed)
        draft = grader.V.PrefixLM(6, seed=seed, noise_seed=seed + 9, noise=1.5)
        prompt = torch.tensor([seed % 6])
        got = ref.speculative_decode(target, draft, prompt, 3, 11, torch.Generator().manual_seed(seed))
        want = grader.V.oracle_decode(target, draft, prompt, 3, 11, seed)
        assert torch.equal(got[0], want[0]) and got[1] == want[1]


class Memo:
    """A model's answers remembered by prefix (the statistics re-ask the same few prefixes)."""

    def __init__(self, model):
        self.model, self.seen = model, {}

    def __call__(self, tokens):
        key = tuple(tokens[0].tolist())
        if key not in self.seen:
            self.seen[key] = self.model(tokens)
        return self.seen[key]

    def row(self, prefix):
        return self.model.row(prefix)


def test_output_follows_the_target_distribution(ref, grader):
    V, runs = 3, 3000
    target = Memo(grader.V.PrefixLM(V, seed=4, spread=1.0))
    draft = Memo(grader.V.PrefixLM(V, seed=4, noise_seed=77, noise=2.0, spread=1.0))
    prompt = torch.tensor([1])
    counts = torch.zeros(V, V)
    g = torch.Generator().manual_seed(0)
    for _ in range(runs):
        tokens, _ = ref.speculative_decode(target, draft, prompt, 2, 2, g)
        counts[tokens[1], tokens[2]] += 1
    want = torch.zeros(V, V)
    for a, b in itertools.product(range(V), range(V)):
        want[a, b] = target.row([1])[a] * target.row([1, a])[b]
    chi2 = float((((counts - runs * want) ** 2) / (runs * want)).sum())
    assert chi2 < 45.0, f"chi-square {chi2:.1f} with 8 degrees of freedom (p < 1e-6 above 45)"
    assert math.isclose(float(want.sum()), 1.0, rel_tol=1e-6)
