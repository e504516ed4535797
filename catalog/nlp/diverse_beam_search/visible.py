"""Visible checks: one penalised beam step, and two groups pushed apart.  Token ids:
0 = <bos>, 1 = <eos>, 2 = "a", 3 = "b", 4 = "c".  ``TableLM`` looks next-token probabilities up
by prefix; ``ToyLM`` (hidden checks) draws a random distribution per prefix from a seeded hash."""
import math

import torch

from mlkata.checks import Fail, check, expect_close, probe

BOS, EOS, A, B, C = 0, 1, 2, 3, 4


def _check_prefixes(prefixes, vocab):
    if not isinstance(prefixes, torch.Tensor) or prefixes.dim() != 2 or prefixes.dtype.is_floating_point:
        raise ValueError("step_fn takes a LongTensor of prefixes of shape [n, t]")
    bad = [t for t in prefixes.reshape(-1).tolist() if not 0 <= t < vocab]
    if bad:
        raise ValueError(f"step_fn was given token id {bad[0]}, outside the vocabulary 0..{vocab - 1}")


class TableLM:
    """``table[prefix]`` holds the next-token probabilities of a prefix (a tuple starting with <bos>)."""

    def __init__(self, table: dict, default: list):
        self.table = {tuple(k): list(v) for k, v in table.items()}
        self.default = list(default)
        self.vocab = len(default)

    def row(self, prefix) -> torch.Tensor:
        probs = self.table.get(tuple(prefix), self.default)
        return torch.tensor([math.log(p) if p > 0 else -math.inf for p in probs], dtype=torch.float32)

    def __call__(self, prefixes):
        _check_prefixes(prefixes, self.vocab)
        return torch.stack([self.row(p) for p in prefixes.tolist()])


class ToyLM:
    """log_softmax(spread * randn(vocab) + eos_bias at eos, -inf at bos), randn seeded by a hash of (seed, prefix)."""

    def __init__(self, vocab: int, seed: int, spread: float = 2.0, eos_bias: float = 0.0):
        self.vocab, self.seed, self.spread = vocab, seed, spread
        self.bias = torch.zeros(vocab, dtype=torch.float64)
        self.bias[EOS] += eos_bias
        self.bias[BOS] = -math.inf

    def row(self, prefix) -> torch.Tensor:
        h = self.seed
        for tok in prefix:
            h = (h * 1_000_003 + int(tok) + 1) % (2**61 - 1)
        g = torch.Generator().manual_seed(h)
        logits = torch.randn(self.vocab, generator=g, dtype=torch.float64) * self.spread + self.bias
        return torch.log_softmax(logits, dim=0).float()

    def __call__(self, prefixes):
        _check_prefixes(prefixes, self.vocab)
        return torch.stack([self.row(p) for p in prefixes.tolist()])


@probe
def step(sub, beam, next_logp, eos_id, beam_size, penalty):
    return sub.beam_step(beam, next_logp, eos_id, beam_size, penalty)


@probe
def search(sub, lm, num_groups, beam_size, max_len, diversity_penalty=None, record=False):
    calls = []

    def step_fn(prefixes):
        if record:
            calls.append(prefixes.clone() if isinstance(prefixes, torch.Tensor) else type(prefixes).__name__)
        return lm(prefixes)

    kwargs = {} if diversity_penalty is None else {"diversity_penalty": diversity_penalty}
    return {"groups": sub.diverse_beam_search(step_fn, BOS, EOS, num_groups, beam_size, max_len, **kwargs),
            "calls": calls}


def read_beam(hyps, what):
    rule = "a beam is a list of (tokens, score) pairs: tokens a list of ints, score a float"
    if not isinstance(hyps, (list, tuple)):
        raise Fail(rule, f"{what}: got {type(hyps).__name__}")
    out = []
    for h in hyps:
        if not isinstance(h, (list, tuple)) or len(h) != 2 or not isinstance(h[0], (list, tuple)) \
                or not all(type(t) is int for t in h[0]) or isinstance(h[1], bool) \
                or not isinstance(h[1], (int, float)):
            raise Fail(rule, f"{what}: {h!r} is not a (list of ints, float) pair"[:300])
        out.append((list(h[0]), float(h[1])))
    return out


def read_groups(got, num_groups):
    groups = got["groups"]
    if not isinstance(groups, (list, tuple)) or len(groups) != num_groups:
        raise Fail("diverse_beam_search returns one list of hypotheses per group",
                   f"expected {num_groups} groups, got {groups!r}"[:300])
    return [read_beam(g, f"group {i}") for i, g in enumerate(groups)]


def expect_beam(got, want, rule, what):
    if [t for t, _ in got] != [t for t, _ in want]:
        raise Fail(rule, f"{what}: expected tokens {[t for t, _ in want]}, your code returned {[t for t, _ in got]}")
    expect_close([s for _, s in got], [s for _, s in want], rule, rtol=1e-5, atol=1e-5, what=f"{what} scores")


@check("beam_step: a penalty of 1.0 on 'a' makes 'b' win the single slot, and the score stays the true log-prob")
def penalised_step(run):
    beam = [([], 0.0)]
    next_logp = torch.tensor([[-math.inf, math.log(0.1), math.log(0.5), math.log(0.3), math.log(0.1)]])
    penalty = torch.tensor([0.0, 0.0, 1.0, 0.0, 0.0])
    got = read_beam(run(step, beam, next_logp, EOS, 2, penalty), "beam_step")
    # keys: a: log 0.5 - 1 = -1.69, b: log 0.3 = -1.20, <eos> and c: log 0.1 = -2.30
    expect_beam(got, [([B], math.log(0.3)), ([A], math.log(0.5))], "rank extensions by score - penalty[token]; keep "
                "beam_size of them, best key first; return their true scores", "beam_step")


TWO_WAYS = TableLM({(BOS,): [0.0, 0.05, 0.6, 0.3, 0.05]}, default=[0.0, 0.9, 0.04, 0.03, 0.03])


@check("two groups of one, the default diversity_penalty (1.0): group 1 is pushed off group 0's first token")
def groups_pushed_apart(run):
    got = read_groups(run(search, TWO_WAYS, 2, 1, 2), 2)                # diversity_penalty left to its default
    expect_beam(got[0], [([A, EOS], math.log(0.6 * 0.9))], "group 0 is plain beam search: 'a' then <eos>",
                "group 0")
    expect_beam(got[1], [([B, EOS], math.log(0.3 * 0.9))], "group 1 pays lambda = 1 (the default) for 'a' (group 0 "
                "chose it at this step): log 0.6 - 1 < log 0.3, so it takes 'b'; its score is the true log-prob",
                "group 1")


@check("with diversity_penalty = 0 every group repeats group 0")
def no_penalty(run):
    got = read_groups(run(search, TWO_WAYS, 3, 2, 2, 0.0), 3)
    want = [([A, EOS], math.log(0.6 * 0.9)), ([B, EOS], math.log(0.3 * 0.9))]
    for g in range(3):
        expect_beam(got[g], want, "without the penalty each group runs the same beam search", f"group {g}")
