"""Twins of nlp/beam_search: the reference and the grader's oracle against each other, against
exhaustive enumeration, and against transformers' beam search (``generate(num_beams=...)``).

transformers keeps finished hypotheses aside and divides by ``len ** length_penalty``, so the
two contracts agree only where no hypothesis ends: there the beams must be the same sequences
and the scores must agree after converting the penalty (sum = score * penalty).
"""
import math
import random

import pytest
import torch

from mlkata import catalog, grading
from mlkata.engine import load_module

ROOT = catalog.ROOT
REF = load_module(str(ROOT / "solutions" / "nlp" / "beam_search.py"), "twin_reference_nlp_beam_search")
G = grading.check_module("hidden", catalog.get("nlp/beam_search"))


def _same(got, want, tol=1e-6):
    return [t for t, _ in got] == [t for t, _ in want] and \
        all(abs(a - b) <= tol for (_, a), (_, b) in zip(got, want))


@pytest.mark.parametrize("seed", range(40))
def test_reference_matches_oracle_and_enumeration(seed):
    r = random.Random(seed)
    vocab, k, max_len = r.randint(3, 7), r.randint(1, 6), r.randint(1, 6)
    alpha = r.choice([0.0, 0.6, 1.0, 2.0])
    bos, eos = r.sample(range(vocab), 2)
    lm, want = G.pick_lm(seed, vocab, k, max_len, alpha, bos=bos, eos=eos, eos_bias=r.choice([-1.0, 0.0, 1.0]))
    assert _same(REF.beam_search(lm, bos, eos, k, max_len, alpha), want)
    if k == 1:
        tokens, s = G.greedy(lm, bos, eos, max_len)
        assert want[0][0] == tokens
    if vocab ** max_len <= 800:
        enum = G.exhaustive(lm, bos, eos, max_len, alpha)
        assert _same(REF.beam_search(lm, bos, eos, vocab ** max_len, max_len, alpha), enum)
        assert enum[0][1] >= want[0][1] - 1e-12          # a beam never beats the exhaustive optimum


class HFStep:
    """step_fn of a tiny random GPT-2, with <eos> suppressed after the log_softmax (as
    transformers' SuppressTokensLogitsProcessor does); ``row`` serves the grader's oracle."""

    def __init__(self, model, eos):
        self.model, self.eos = model, eos

    def __call__(self, prefixes):
        with torch.no_grad():
            logp = torch.log_softmax(self.model(prefixes).logits[:, -1].double(), dim=-1)   # (n, V)
        logp[:, self.eos] = -math.inf
        return logp

    def row(self, prefix):
        return self(torch.tensor([list(prefix)]))[0]


@pytest.mark.parametrize("seed,beam_size,max_len,alpha",
                         [(0, 3, 5, 0.0), (1, 2, 6, 0.6), (2, 4, 4, 1.0), (3, 2, 3, 2.0), (4, 5, 5, 0.6)])
def test_agrees_with_transformers_beam_search_without_eos(seed, beam_size, max_len, alpha):
    transformers = pytest.importorskip("transformers")
    vocab, bos, eos = 12, 0, 1
    torch.manual_seed(seed)
    cfg = transformers.GPT2Config(vocab_size=vocab, n_positions=32, n_embd=16, n_layer=1, n_head=2,
                                  bos_token_id=bos, eos_token_id=eos, pad_token_id=bos)
    model = transformers.GPT2LMHeadModel(cfg).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(8.0)                                  # peakier next-token distributions
    step = HFStep(model, eos)
    want, margin = G.oracle(step, bos, eos, beam_size, max_len, alpha)
    assert margin > 1e-4, "near-tie: pick another seed"
    out = model.generate(input_ids=torch.tensor([[bos]]), attention_mask=torch.ones(1, 1, dtype=torch.long),
                         num_beams=beam_size, num_return_sequences=beam_size, max_new_tokens=max_len,
                         do_sample=False, length_penalty=alpha, suppress_tokens=[eos],
                         output_scores=True, return_dict_in_generate=True)
    hf_tokens = out.sequences[:, 1:].tolist()
    hf_sums = (out.sequences_scores.double() * max_len ** alpha).tolist()      # HF: sum / len ** alpha

    got = REF.beam_search(step, bos, eos, beam_size, max_len, alpha)
    for name, hyps in (("reference", got), ("grader oracle", want)):
        assert [t for t, _ in hyps] == hf_tokens, name
        sums = [s * G.penalty(max_len, alpha) for _, s in hyps]               # ours: sum / GNMT penalty
        assert sums == pytest.approx(hf_sums, rel=1e-5, abs=1e-5), name
