"""Visible checks: counting met constraints, the banks, and a constraint that beam search alone
would miss.  Token ids: 0 = <bos>, 1 = <eos>, 2 = "a", 3 = "b", 4 = "c"."""
import math

import torch

from mlkata.checks import Fail, check, expect_close, expect_equal, probe

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
def met(sub, tokens, constraints):
    return sub.num_met(tokens, constraints)


@probe
def banks(sub, candidates, constraints, beam_size):
    return sub.select_banks(candidates, constraints, beam_size)


@probe
def search(sub, lm, constraints, beam_size, max_len, record=False):
    calls = []

    def step_fn(prefixes):
        if record:
            calls.append(prefixes.clone() if isinstance(prefixes, torch.Tensor) else type(prefixes).__name__)
        return lm(prefixes)

    return {"hyps": sub.constrained_beam_search(step_fn, BOS, EOS, constraints, beam_size, max_len), "calls": calls}


def read_beam(hyps, what):
    rule = "hypotheses are (tokens, score) pairs: tokens a list of ints, score a float"
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


def expect_beam(got, want, rule, what):
    if [t for t, _ in got] != [t for t, _ in want]:
        raise Fail(rule, f"{what}: expected tokens {[t for t, _ in want]}, your code returned {[t for t, _ in got]}")
    expect_close([s for _, s in got], [s for _, s in want], rule, rtol=1e-5, atol=1e-5, what=f"{what} scores")


@check("num_met counts each constraint token once, wherever it occurs")
def counting(run):
    expect_equal(run(met, [2, 3, 3, 4, 2], [3, 2, 5]), 2, "tokens 3 and 2 occur (3 twice, still one constraint), "
                 "5 does not", what="num_met([2, 3, 3, 4, 2], [3, 2, 5])")


@check("select_banks keeps the best of each bank, even when a lower bank scores worse than a higher one")
def banking(run):
    cands = [([2], -0.5), ([3], -2.0), ([2, 2], -0.7), ([3, 4], -3.0), ([4], -0.1), ([2, 4], -1.0)]
    got = run(banks, cands, [3, 4], 2)
    if not isinstance(got, (list, tuple)) or len(got) != 3:
        raise Fail("select_banks returns K + 1 banks", f"expected 3 banks, your code returned {got!r}"[:300])
    want = [[([2], -0.5), ([2, 2], -0.7)], [([4], -0.1), ([2, 4], -1.0)], [([3, 4], -3.0)]]
    for k in range(3):
        expect_beam(read_beam(got[k], f"bank {k}"), want[k], "bank k holds the beam_size best candidates meeting "
                    "exactly k constraints, best first", f"bank {k}")


SKIPS_B = TableLM({(BOS,): [0.0, 0.3, 0.5, 0.15, 0.05], (BOS, A): [0.0, 0.8, 0.1, 0.05, 0.05],
                   (BOS, B): [0.0, 0.7, 0.2, 0.05, 0.05], (BOS, A, B): [0.0, 0.6, 0.2, 0.1, 0.1]},
                  default=[0.0, 0.25, 0.25, 0.25, 0.25])


@check("the constraint 'b' is met although plain beam search of width 1 would say 'a <eos>'")
def meets_the_constraint(run):
    got = read_beam(run(search, SKIPS_B, [B], 1, 3)["hyps"], "constrained_beam_search")
    # bank 1 after step 1: [b] (0.15); after step 2: [b, <eos>] (0.15 * 0.7 = 0.105) beats [a, b] (0.5 * 0.05)
    expect_beam(got, [([B, EOS], math.log(0.15 * 0.7))], "bank 0 keeps 'a' while bank 1 keeps 'b'; the answer "
                "is bank 1's best, ended once the constraint is met", "constrained_beam_search([b], beam 1)")
