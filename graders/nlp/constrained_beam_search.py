"""Hidden graders of nlp/constrained_beam_search: num_met and select_banks on random inputs, the
search against a step-by-step simulation of the contract on random toy language models (cases with
no near-tie at any cut), no constraints = plain beam search, a beam wider than the search space =
the exhaustive best constrained sequence, unreachable constraints, and the calls made to step_fn.
transformers 5 has no constrained beam search any more: the oracle is the contract itself."""
import itertools
import math
import random

import torch

from mlkata.checks import Fail, check, expect, expect_equal, visible_module

V = visible_module("nlp/constrained_beam_search")

MARGIN = 1e-3


def ended(tokens, eos=1):
    return bool(tokens) and tokens[-1] == eos


def oracle_met(tokens, constraints):
    return sum(1 for c in set(constraints) if c in tokens)


def oracle_banks(cands, constraints, size, margins=None):
    banks = [[] for _ in range(len(constraints) + 1)]
    for t, s in cands:
        banks[oracle_met(t, constraints)].append((t, s))
    out = []
    for bank in banks:
        bank.sort(key=lambda h: h[1], reverse=True)
        if margins is not None:
            scores = [s for _, s in bank[:size + 1]]
            margins += [a - b for a, b in zip(scores, scores[1:]) if a - b == a - b]
        out.append(bank[:size])
    return out


def oracle_search(lm, constraints, size, max_len, bos=0, eos=1, margins=None):
    K = len(constraints)
    banks = [[([], 0.0)]] + [[] for _ in range(K)]
    for _ in range(max_len):
        if banks[K] and all(ended(t, eos) for t, _ in banks[K]):
            break
        cands = [h for b in banks for h in b if ended(h[0], eos)]
        for tokens, s in [h for b in banks for h in b if not ended(h[0], eos)]:
            row = lm.row([bos] + tokens).double().tolist()
            complete = oracle_met(tokens, constraints) == K
            cands += [(tokens + [v], s + lp) for v, lp in enumerate(row) if v != eos or complete]
        banks = oracle_banks(cands, constraints, size, margins)
    return banks[K]


def exhaustive(lm, constraints, max_len, bos=0, eos=1):
    """Every sequence of at most max_len tokens that ends with eos (or has max_len tokens), contains every
    constraint before its eos, and has a finite log-prob: (tokens, log-prob), best first."""
    out = []
    for n in range(1, max_len + 1):
        for body in itertools.product(range(2, lm.vocab), repeat=n - 1):
            for last in list(range(2, lm.vocab)) + [eos]:
                tokens = list(body) + [last]
                if last != eos and n < max_len:
                    continue
                if oracle_met(tokens, constraints) < len(constraints):
                    continue
                s, prefix = 0.0, [bos]
                for t in tokens:
                    s += float(lm.row(prefix)[t])
                    prefix.append(t)
                out.append((tokens, s))
    return sorted(out, key=lambda h: h[1], reverse=True)


def pick_lm(seed, constraints, size, max_len, vocab=6, **kw):
    for i in range(200):
        lm = V.ToyLM(vocab, seed * 1000 + i, **kw)
        margins = []
        want = oracle_search(lm, constraints, size, max_len, margins=margins)
        if want and min(margins + [math.inf]) > MARGIN:
            return lm, want
    raise RuntimeError("no tie-free toy LM")           # pragma: no cover


def expect_search(run, lm, constraints, size, max_len, want, rule):
    case = f"ToyLM(vocab={lm.vocab}, seed={lm.seed}), constraints {constraints}, beam_size {size}, max_len {max_len}"
    got = V.read_beam(run(V.search, lm, constraints, size, max_len)["hyps"], case)
    V.expect_beam(got, want, rule, case)


@check("num_met on random token lists and constraint sets")
def met_random(run):
    rng = random.Random(0)
    for _ in range(10):
        tokens = [rng.randint(2, 8) for _ in range(rng.randint(0, 8))]
        constraints = rng.sample(range(2, 9), rng.randint(0, 4))
        expect_equal(run(V.met, tokens, constraints), oracle_met(tokens, constraints), "the number of distinct "
                     "constraint tokens present (repeats count once)", what=f"num_met({tokens}, {constraints})")


@check("select_banks agrees with grouping by constraints met and keeping the best of each", points=2)
def banks_random(run):
    rng = random.Random(1)
    for trial in range(6):
        constraints = rng.sample(range(2, 7), rng.randint(1, 3))
        cands = [([rng.randint(2, 6) for _ in range(rng.randint(1, 5))], -rng.random() * 10)
                 for _ in range(rng.randint(3, 14))]
        size = rng.randint(1, 4)
        got = run(V.banks, cands, constraints, size)
        want = oracle_banks(cands, constraints, size)
        if not isinstance(got, (list, tuple)) or len(got) != len(want):
            raise Fail("select_banks returns K + 1 banks, bank k for candidates meeting exactly k constraints",
                       f"constraints {constraints}: expected {len(want)} banks, got {got!r}"[:300])
        for k in range(len(want)):
            V.expect_beam(V.read_beam(got[k], f"bank {k}"), want[k], "bank k: the beam_size best-scoring candidates "
                          "meeting exactly k constraints, best first (empty if none)",
                          f"select_banks (trial {trial}, constraints {constraints}, beam_size {size}): bank {k}")


@check("constrained_beam_search agrees with a step-by-step simulation on random language models", points=3)
def search_random(run):
    for seed, constraints, size, max_len, kw in [(2, [3], 2, 4, {}), (3, [2, 5], 2, 5, {"eos_bias": 1.0}),
                                                 (4, [4, 2, 3], 3, 6, {}), (5, [5, 3], 1, 5, {"eos_bias": 0.5})]:
        lm, want = pick_lm(seed, constraints, size, max_len, **kw)
        expect_search(run, lm, constraints, size, max_len, want, "one beam per number of constraints met; eos only "
                      "once all are met; one step_fn call per step over every bank's unfinished hypotheses; answer "
                      "= bank K, best first")


@check("no constraints: plain beam search (nlp/beam_search with alpha = 0)")
def no_constraints(run):
    lm, want = pick_lm(6, [], 3, 5, eos_bias=0.5)
    expect_search(run, lm, [], 3, 5, want, "with K = 0 there is one bank and every hypothesis may end: ordinary beam "
                  "search on summed log-probabilities")


@check("a beam wider than the search space returns every constrained sequence, the exhaustive best first")
def exhaustive_optimum(run):
    lm = V.ToyLM(5, 7, eos_bias=0.5)
    want = exhaustive(lm, [3], 3)
    got = V.read_beam(run(V.search, lm, [3], 200, 3)["hyps"], "beam_size 200")
    expect(bool(got) and got[0][0] == want[0][0], "with room for every hypothesis the search is exhaustive: its best "
           "answer is the most likely sequence that contains every constraint",
           f"expected the best constrained sequence {want[0][0]} (log p {want[0][1]:.4f}), your code returned "
           f"{got[:1]}")
    finite = sorted(tuple(t) for t, s in got if s > -math.inf)        # extensions by <bos> (log p = -inf) aside
    expect_equal(finite, sorted(tuple(t) for t, _ in want), "bank K then holds every sequence that meets the "
                 "constraints (ended, or max_len tokens long)", what="the set of returned sequences of finite score")


@check("constraints that cannot fit in max_len tokens give []; every returned hypothesis meets them all")
def unreachable_and_complete(run):
    lm = V.ToyLM(7, 8)
    got = V.read_beam(run(V.search, lm, [2, 3, 4], 2, 2)["hyps"], "3 constraints, max_len 2")
    expect(got == [], "three constraint tokens need at least three tokens: bank K stays empty and the answer is []",
           f"your code returned {got}")
    lm, want = pick_lm(9, [4, 5], 2, 6, eos_bias=2.0)
    got = V.read_beam(run(V.search, lm, [4, 5], 2, 6)["hyps"], "constraints [4, 5]")
    V.expect_beam(got, want, "eos is masked until every constraint is met, so every answer contains them all",
                  "constraints [4, 5], a likely eos")


# <eos> is the likeliest first token; "a" (2) leads to "b" (3), then "c" (4).  Ending early must be impossible.
EAGER_EOS = V.TableLM({(0,): [0.0, 0.6, 0.3, 0.02, 0.08], (0, 2): [0.0, 0.04, 0.02, 0.9, 0.04],
                       (0, 2, 3): [0.0, 0.3, 0.04, 0.06, 0.6], (0, 2, 3, 4): [0.0, 0.85, 0.05, 0.07, 0.03]},
                      default=[0.0, 0.5, 0.17, 0.13, 0.2])


@check("eos is masked until EVERY constraint is met: early endings must not take a bank's slots")
def eos_masked(run):
    for constraints, max_len in (([3], 4), ([3, 4], 5)):
        margins = []
        want = oracle_search(EAGER_EOS, constraints, 1, max_len, margins=margins)
        if min(margins) <= MARGIN:
            raise RuntimeError("this hand-made case must have no near-tie")        # pragma: no cover
        got = V.read_beam(run(V.search, EAGER_EOS, constraints, 1, max_len)["hyps"], f"constraints {constraints}")
        V.expect_beam(got, want, "a hypothesis may produce eos only if the extension meets all K constraints; an "
                      "early ending would sit in a lower bank for good, taking the slot of the hypothesis that leads "
                      "to the answer", f"constraints {constraints}, beam_size 1, an LM that likes to stop at once")


@check("step_fn: one call per step with every bank's unfinished prefixes (bos first); none once bank K has ended")
def calls(run):
    lm, want = pick_lm(10, [3], 2, 6, eos_bias=1.0)
    got = run(V.search, lm, [3], 2, 6, True)
    V.read_beam(got["hyps"], "search")
    calls = got["calls"]
    expect(all(isinstance(c, torch.Tensor) for c in calls), "step_fn is called with a LongTensor of prefixes",
           "it was called with something else")
    widths = [c.shape[1] for c in calls]
    expect(widths == list(range(1, len(widths) + 1)), "call step_fn once per step, on all unfinished hypotheses of all "
           "banks together (prefix widths 1, 2, 3, ...)", f"prefix widths of the calls: {widths}")
    expect(all(bool((c[:, 0] == 0).all()) and not bool((c[:, 1:] == 1).any()) for c in calls),
           "prefixes start with bos_id and never contain eos (finished hypotheses are not extended)",
           "a prefix did not start with bos or held eos")
    longest = max(len(t) for t, _ in want)
    expect(max(widths) <= longest, "stop as soon as bank K is non-empty and all ended",
           f"step_fn was called with prefixes of {max(widths)} tokens; the search was over after {longest} steps")
