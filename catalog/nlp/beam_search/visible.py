"""Visible checks: beam search on hand-written language models small enough to follow by hand.

The toy language models below are what ``step_fn`` is in every check: ``TableLM`` looks the
prefix up in a table of next-token probabilities, ``ToyLM`` (used by the hidden checks) draws
a random distribution for every prefix from a seeded hash of it.  Token ids in the visible
checks: 0 = <bos>, 1 = <eos>, 2 = "a", 3 = "b".
"""
import math

import torch

from mlkata.checks import Fail, check, expect_close, probe

BOS, EOS, A, B = 0, 1, 2, 3


def _check_prefixes(prefixes, vocab):
    if not isinstance(prefixes, torch.Tensor) or prefixes.dim() != 2 or prefixes.dtype.is_floating_point \
            or prefixes.dtype == torch.bool or prefixes.is_complex():
        got = (f"a tensor of shape {list(prefixes.shape)} and dtype {prefixes.dtype}"
               if isinstance(prefixes, torch.Tensor) else type(prefixes).__name__)
        raise ValueError(f"step_fn takes a LongTensor of prefixes of shape [n, t]; it was given {got}")
    bad = [t for t in prefixes.reshape(-1).tolist() if not 0 <= t < vocab]
    if bad:
        raise ValueError(f"step_fn was given token id {bad[0]}, outside the vocabulary 0..{vocab - 1}")


class TableLM:
    """``step_fn`` from a table: ``table[prefix]`` holds the next-token probabilities of a prefix
    (a tuple starting with <bos>); prefixes missing from the table get ``default``."""

    def __init__(self, table: dict, default: list):
        self.table = {tuple(k): list(v) for k, v in table.items()}
        self.default = list(default)
        self.vocab = len(default)

    def row(self, prefix) -> torch.Tensor:
        probs = self.table.get(tuple(prefix), self.default)
        return torch.tensor([math.log(p) if p > 0 else -math.inf for p in probs], dtype=torch.float32)

    def __call__(self, prefixes: torch.Tensor) -> torch.Tensor:
        _check_prefixes(prefixes, self.vocab)
        rows = [self.row(p) for p in prefixes.tolist()]
        return torch.stack(rows) if rows else torch.empty(0, self.vocab)   # (n, V) float32


class ToyLM:
    """``step_fn`` of a random language model: the next-token distribution of a prefix is
    log_softmax(spread * randn(vocab) + bias), with randn seeded by a hash of (seed, prefix).

    ``bias`` adds ``eos_bias`` to the end token's logit and ``bos_bias`` to <bos>'s (-inf masks
    it).  Rows are computed one prefix at a time, so batching never changes a value.
    """

    def __init__(self, vocab: int, seed: int, spread: float = 2.0, eos_id: int = 1, eos_bias: float = 0.0,
                 bos_id: int = 0, bos_bias: float = 0.0):
        self.vocab, self.seed, self.spread = vocab, seed, spread
        self.bias = torch.zeros(vocab, dtype=torch.float64)
        self.bias[bos_id] += bos_bias
        self.bias[eos_id] += eos_bias

    def row(self, prefix) -> torch.Tensor:
        h = self.seed
        for tok in prefix:
            h = (h * 1_000_003 + int(tok) + 1) % (2**61 - 1)
        g = torch.Generator().manual_seed(h)
        logits = torch.randn(self.vocab, generator=g, dtype=torch.float64) * self.spread + self.bias
        return torch.log_softmax(logits, dim=0).float()                   # (V,) float32

    def __call__(self, prefixes: torch.Tensor) -> torch.Tensor:
        _check_prefixes(prefixes, self.vocab)
        rows = [self.row(p) for p in prefixes.tolist()]
        return torch.stack(rows) if rows else torch.empty(0, self.vocab)   # (n, V) float32


@probe
def search(sub, lm, bos_id, eos_id, beam_size, max_len, alpha=0.6, record=False):
    """Run the learner's beam_search with ``lm`` as step_fn; report its answer and, when
    ``record``, every prefix batch step_fn was given."""
    calls = []

    def step_fn(prefixes):
        if record:
            calls.append(prefixes.clone() if isinstance(prefixes, torch.Tensor) else type(prefixes).__name__)
        return lm(prefixes)

    if alpha is None:                                   # use the default alpha
        hyps = sub.beam_search(step_fn, bos_id, eos_id, beam_size, max_len)
    else:
        hyps = sub.beam_search(step_fn, bos_id, eos_id, beam_size, max_len, alpha)
    return {"hyps": hyps, "calls": calls}


# --------------------------------------------------------------------------------------------
# Reading the answer (judge side): a list of (tokens, score) pairs, best first.
# --------------------------------------------------------------------------------------------

def read_hyps(got) -> list:
    """``got["hyps"]`` as a list of (list of ints, float); a Fail names what is malformed."""
    rule = "beam_search returns a list of (tokens, score) pairs: tokens a list of ints, score a float"
    hyps = got["hyps"] if isinstance(got, dict) else got
    if not isinstance(hyps, (list, tuple)):
        raise Fail(rule, f"it returned {_describe(hyps)}")
    out = []
    for i, h in enumerate(hyps):
        if not isinstance(h, (list, tuple)) or len(h) != 2:
            raise Fail(rule, f"hypothesis {i} is {_describe(h)}, not a (tokens, score) pair")
        tokens, score = h
        if isinstance(tokens, torch.Tensor) and tokens.dim() == 1 and not tokens.dtype.is_floating_point:
            tokens = tokens.tolist()
        if not isinstance(tokens, (list, tuple)) or not all(type(t) is int for t in tokens):
            raise Fail(rule, f"hypothesis {i}: tokens is {_describe(tokens)}, not a list of ints")
        if isinstance(score, torch.Tensor) and score.numel() == 1:
            score = score.item()
        if isinstance(score, bool) or not isinstance(score, (int, float)):
            raise Fail(rule, f"hypothesis {i}: score is {_describe(score)}, not a float")
        out.append((list(tokens), float(score)))
    return out


def _describe(x) -> str:
    if isinstance(x, torch.Tensor):
        return f"a tensor of shape {list(x.shape)} and dtype {x.dtype}"
    return f"{type(x).__name__} {x!r}"[:160]


def show(hyps) -> str:
    return "[" + ", ".join(f"({t}, {s:.4f})" for t, s in hyps) + "]"


def difference(got, want) -> str:
    """Expected vs returned hypotheses: whole lists when short, else around the first difference."""
    if len(want) <= 6 and len(got) <= 6:
        return f"  expected {show(want)}\n  your code returned {show(got)}"
    i = next((i for i, (g, w) in enumerate(zip(got, want)) if g[0] != w[0]), min(len(got), len(want)))
    return (f"  expected {len(want)} hypotheses, your code returned {len(got)}; the first difference is at "
            f"position {i}:\n  expected           ...{show(want[i:i + 3])}\n"
            f"  your code returned ...{show(got[i:i + 3])}")


def expect_hyps(got, want, rule, what="returned hypotheses", rtol=1e-5, atol=1e-4):
    """Same token lists in the same order, scores within tolerance."""
    if [t for t, _ in got] != [t for t, _ in want]:
        raise Fail(rule, f"{what}:\n{difference(got, want)}")
    expect_close([s for _, s in got], [s for _, s in want], rule, rtol=rtol, atol=atol,
                 what=f"scores of the {what} {[t for t, _ in want]}"[:300])


def logp_of(lm, tokens) -> float:
    """log P(tokens | <bos>) under ``lm`` (float64 sum of its float32 log-probs)."""
    prefix = [BOS]
    total = 0.0
    for tok in tokens:
        total += float(lm.row(prefix)[tok])
        prefix.append(tok)
    return total


# --------------------------------------------------------------------------------------------
# The checks
# --------------------------------------------------------------------------------------------

# After <bos>: "a" 0.5, "b" 0.4.  After "a" nothing is likely; after "b", <eos> is (0.9).
BEATS_GREEDY = TableLM({(BOS,): [0.0, 0.1, 0.5, 0.4],
                        (BOS, A): [0.0, 0.3, 0.4, 0.3],
                        (BOS, B): [0.0, 0.9, 0.05, 0.05]},
                       default=[0.0, 0.5, 0.25, 0.25])


@check("length_penalty is ((5 + length) / 6) ** alpha")
def length_penalty_values(run):
    for length, alpha, want in [(1, 0.6, 1.0), (7, 1.0, 2.0), (13, 0.5, math.sqrt(3)), (4, 0.0, 1.0),
                                (10, 0.6, 2.5 ** 0.6)]:
        got = run("length_penalty", length, alpha)
        expect_close(got, want, "length_penalty(length, alpha) = ((5 + length) / 6) ** alpha",
                     what=f"length_penalty({length}, {alpha})")


@check("a beam of 2 finds b <eos> (p = 0.36), which greedy decoding misses")
def beats_greedy(run):
    # Step 1 keeps [a] (0.5) and [b] (0.4).  Step 2's candidates: [b, <eos>] 0.36, [a, a] 0.2,
    # [a, <eos>] and [a, b] 0.15, ...  Greedy decoding would have returned [a, a] (0.2).
    got = read_hyps(run(search, BEATS_GREEDY, BOS, EOS, 2, 2, 0.0))
    want = [([B, EOS], math.log(0.4 * 0.9)), ([A, A], math.log(0.5 * 0.4))]
    expect_hyps(got, want, "keep the beam_size best candidates over the whole beam, not the greedy path; "
                "tokens exclude <bos> and end with <eos> when the hypothesis has ended")


@check("scores are summed log-probs / length_penalty, and the best score comes first")
def normalised_scores_best_first(run):
    # With alpha = 1, [a, <eos>] (log 0.33 / (7/6) = -0.95) beats [<eos>] (log 0.35 = -1.05),
    # although its summed log-prob is lower.
    lm = TableLM({(BOS,): [0.0, 0.35, 0.6, 0.05], (BOS, A): [0.0, 0.55, 0.25, 0.2]},
                 default=[0.0, 0.1, 0.1, 0.8])
    got = read_hyps(run(search, lm, BOS, EOS, 2, 2, 1.0))
    want = [([A, EOS], math.log(0.6 * 0.55) / (7 / 6)), ([EOS], math.log(0.35) / 1.0)]
    expect_hyps(got, want, "score = sum of the tokens' log-probs / length_penalty(len(tokens), alpha); "
                "rank by that score and return the kept hypotheses best score first")


@check("a finished hypothesis stays in the beam unchanged while the others keep growing")
def finished_hypotheses_carried_over(run):
    # [<eos>] ends at step 1 (p = 0.5) and stays best; [a] grows to [a, a, a, <eos>] beside it.
    lm = TableLM({(BOS,): [0.0, 0.5, 0.4, 0.1], (BOS, A): [0.0, 0.05, 0.9, 0.05],
                  (BOS, A, A): [0.0, 0.02, 0.95, 0.03], (BOS, A, A, A): [0.0, 0.97, 0.02, 0.01]},
                 default=[0.0, 0.4, 0.3, 0.3])
    got = read_hyps(run(search, lm, BOS, EOS, 2, 4, 0.6))
    want = [([EOS], math.log(0.5)), ([A, A, A, EOS], math.log(0.4 * 0.9 * 0.95 * 0.97) / 1.5 ** 0.6)]
    expect_hyps(got, want, "finished hypotheses are carried over unchanged (never extended past <eos>) and "
                "keep competing; the search goes on while any kept hypothesis is unfinished")


@check("at max_len the search stops and returns hypotheses without <eos>")
def stops_at_max_len(run):
    lm = TableLM({(BOS,): [0.0, 0.01, 0.7, 0.29], (BOS, A): [0.0, 0.01, 0.55, 0.44]},
                 default=[0.0, 0.01, 0.6, 0.39])
    got = read_hyps(run(search, lm, BOS, EOS, 2, 3, 0.6))
    lp = (8 / 6) ** 0.6                                    # length_penalty(3, 0.6)
    want = [([A, A, A], math.log(0.7 * 0.55 * 0.6) / lp), ([A, B, A], math.log(0.7 * 0.44 * 0.6) / lp)]
    expect_hyps(got, want, "after max_len generated tokens the search stops; unfinished hypotheses are returned "
                "as they are")
