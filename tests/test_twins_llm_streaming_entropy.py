"""Library twins of llm/streaming_entropy: the chunked entropy equals
``torch.distributions.Categorical(logits=...).entropy()`` of the concatenated logits (masked tokens
included), and RunningStats equals ``torch.var_mean`` / numpy's ``var`` of the concatenated stream,
for the reference and the grader's oracles."""
import math

import numpy as np
import pytest
import torch

from mlkata.engine import load_module
from helpers import ROOT


@pytest.fixture(scope="module")
def ref():
    return load_module(str(ROOT / "solutions" / "llm" / "streaming_entropy.py"), "twin_solution_llm_streaming_entropy")


@pytest.fixture(scope="module")
def oracle():
    return load_module(str(ROOT / "graders" / "llm" / "streaming_entropy.py"), "twin_grader_llm_streaming_entropy")


@pytest.mark.parametrize("seed,pieces,scale,masked", [(0, 1, 1.0, 0.0), (1, 3, 3.0, 0.0), (2, 8, 10.0, 0.3),
                                                      (3, 5, 0.1, 0.6), (4, 12, 30.0, 0.2)])
def test_entropy_agrees_with_categorical(ref, oracle, seed, pieces, scale, masked):
    x, chunks = oracle.logits_case(seed, B=6, V_=200, scale=scale, pieces=pieces, masked=masked, dtype=torch.float64)
    want = torch.distributions.Categorical(logits=x).entropy()
    torch.testing.assert_close(ref.streaming_entropy(chunks), want, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(oracle.oracle_entropy(x), want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("seed,loc", [(0, 0.0), (1, -50.0), (2, 1e6)])
def test_running_stats_agree_with_torch_and_numpy(ref, oracle, seed, loc):
    batches = oracle.stream_case(seed, n_batches=10, loc=loc, scale=2.0)
    stats = ref.RunningStats()
    for b in batches:
        stats.update(b)
    x = torch.cat(batches)
    var, mean = torch.var_mean(x)
    assert stats.count == x.numel()
    assert stats.mean.item() == pytest.approx(mean.item(), rel=1e-12, abs=1e-12)
    assert stats.variance().item() == pytest.approx(var.item(), rel=1e-9)
    assert stats.variance(unbiased=False).item() == pytest.approx(float(np.var(x.numpy())), rel=1e-9)


def test_merge_is_associative_over_many_splits(ref):
    g = torch.Generator().manual_seed(9)
    x = torch.randn(1000, generator=g, dtype=torch.float64) * 5 + 3
    parts = []
    for piece in x.split(37):
        s = ref.RunningStats()
        s.update(piece)
        parts.append(s)
    while len(parts) > 1:                                     # a tree of merges, as across devices
        parts = [parts[i].merge(parts[i + 1]) if i + 1 < len(parts) else parts[i] for i in range(0, len(parts), 2)]
    assert parts[0].variance().item() == pytest.approx(x.var().item(), rel=1e-12)
    assert math.isclose(parts[0].mean.item(), x.mean().item(), rel_tol=1e-12)
