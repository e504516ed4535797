"""Hidden graders of nlp/beam_search: agreement with a brute-force simulation of the contract on
random toy language models, the exhaustive optimum for a huge beam, greedy decoding for a beam
of one, and the rules about finished hypotheses, stopping, ordering and the returned tokens."""
import math

import torch

from mlkata.checks import Fail, check, expect, expect_close, visible_module

V = visible_module("nlp/beam_search")

MARGIN = 1e-3     # cases are chosen so that no two candidates at a cut are closer than this


# --------------------------------------------------------------------------------------------
# Oracles: straight from the contract, one hypothesis at a time, in float64.
# --------------------------------------------------------------------------------------------

def penalty(length, alpha):
    return ((5 + length) / 6) ** alpha


def _gap(a, b):
    gap = a - b
    return gap if gap == gap else 0.0          # -inf - -inf is a tie, not a margin


def oracle(lm, bos, eos, beam_size, max_len, alpha, steps=None):
    """The contract simulated literally: (hypotheses best first, smallest score gap at any cut).

    ``steps``, a list, receives the number of steps the search took."""
    def score(h):
        return h[1] / penalty(len(h[0]), alpha)

    beam, margin = [((), 0.0)], math.inf
    for step in range(max_len):
        if all(t and t[-1] == eos for t, _ in beam):
            break
        if steps is not None:
            steps[:] = [step + 1]
        cands = []
        for tokens, s in beam:
            if tokens and tokens[-1] == eos:
                cands.append((tokens, s))                       # finished: carried over unchanged
                continue
            row = lm.row([bos, *tokens]).double().tolist()
            cands += [(tokens + (v,), s + row[v]) for v in range(len(row))]
        cands.sort(key=score, reverse=True)
        if len(cands) > beam_size:
            margin = min(margin, _gap(score(cands[beam_size - 1]), score(cands[beam_size])))
        beam = cands[:beam_size]
    final = [(list(t), score((t, s))) for t, s in beam]
    for (_, a), (_, b) in zip(final, final[1:]):
        margin = min(margin, _gap(a, b))
    return final, margin


def exhaustive(lm, bos, eos, max_len, alpha):
    """Every complete hypothesis (ended by eos, or max_len tokens long), best first."""
    leaves = []

    def walk(tokens, s):
        if (tokens and tokens[-1] == eos) or len(tokens) == max_len:
            leaves.append((tokens, s / penalty(len(tokens), alpha)))
            return
        row = lm.row([bos, *tokens]).double().tolist()
        for v, lp in enumerate(row):
            walk(tokens + [v], s + lp)

    walk([], 0.0)
    return sorted(leaves, key=lambda h: h[1], reverse=True)


def greedy(lm, bos, eos, max_len):
    tokens, s = [], 0.0
    while len(tokens) < max_len and not (tokens and tokens[-1] == eos):
        row = lm.row([bos, *tokens]).double()
        v = int(row.argmax())
        tokens.append(v)
        s += float(row[v])
    return tokens, s


def recomputed_score(lm, bos, tokens, alpha):
    prefix, s = [bos], 0.0
    for tok in tokens:
        s += float(lm.row(prefix)[tok])
        prefix.append(tok)
    return s / penalty(len(tokens), alpha)


def pick_lm(seed, vocab, beam_size, max_len, alpha, bos=0, eos=1, **lm_kw):
    """The first ToyLM from ``seed`` whose search has no near-ties at any cut (deterministic)."""
    for i in range(100):
        lm = V.ToyLM(vocab, seed * 1000 + i, eos_id=eos, bos_id=bos, **lm_kw)
        want, margin = oracle(lm, bos, eos, beam_size, max_len, alpha)
        if margin > MARGIN:
            return lm, want
    raise RuntimeError(f"no tie-free toy LM for seed {seed}")   # pragma: no cover


# --------------------------------------------------------------------------------------------
# Comparing with the oracle, with a diagnosis of the classic mistakes
# --------------------------------------------------------------------------------------------

def diagnose(got, want, bos, eos) -> str:
    g = [t for t, _ in got]
    w = [t for t, _ in want]
    if any(eos in t[:-1] for t in g):
        return "some returned hypothesis has tokens after <eos>: a finished hypothesis must not be extended"
    if g and all(t[:1] == [bos] for t in g) and not all(t[:1] == [bos] for t in w):
        return "every returned hypothesis starts with bos_id: the tokens must not include it"
    if g == [t[:-1] if t and t[-1] == eos else t for t in w] and g != w:
        return "<eos> is missing from the ended hypotheses: keep it as their last token"
    if len(g) > 1 and g == w[::-1]:
        return "the hypotheses come worst first: return them best score first"
    if len(g) > 1 and sorted(map(tuple, g)) == sorted(map(tuple, w)):
        return "the right hypotheses in the wrong order: sort them by score = log P / length_penalty, best first"
    if len(g) != len(w):
        return f"expected {len(w)} hypotheses, your code returned {len(g)}"
    return ""


def expect_search(got, want, rule, case, bos, eos, scores=True):
    got = V.read_hyps(got)
    g, w = [t for t, _ in got], [t for t, _ in want]
    if g != w:
        note = diagnose(got, want, bos, eos)
        raise Fail(rule, f"{case}\n{V.difference(got, want)}" + (f"\n  ({note})" if note else ""))
    if scores:
        expect_close([s for _, s in got], [s for _, s in want], rule, rtol=1e-5, atol=1e-4,
                     what=f"scores ({case})")
    return got


def run_case(run, seed, vocab, beam_size, max_len, alpha, rule, bos=0, eos=1, **lm_kw):
    lm, want = pick_lm(seed, vocab, beam_size, max_len, 0.6 if alpha is None else alpha, bos, eos, **lm_kw)
    case = (f"ToyLM(vocab={vocab}, seed={lm.seed}), bos_id={bos}, eos_id={eos}, beam_size={beam_size}, "
            f"max_len={max_len}, alpha={'default' if alpha is None else alpha}")
    got = run(V.search, lm, bos, eos, beam_size, max_len, alpha)
    return expect_search(got, want, rule, case, bos, eos), lm


# --------------------------------------------------------------------------------------------
# The checks
# --------------------------------------------------------------------------------------------

@check("length_penalty matches ((5 + length) / 6) ** alpha for many lengths and alphas; alpha = 0 gives 1")
def length_penalty_random(run):
    g = torch.Generator().manual_seed(0)
    for alpha in (0.0, 0.6, 1.0, 0.25, 2.0):
        for length in [0, 1, 2] + torch.randint(3, 200, (3,), generator=g).tolist():
            got = run("length_penalty", length, alpha)
            expect_close(got, ((5 + length) / 6) ** alpha,
                         "length_penalty(length, alpha) = ((5 + length) / 6) ** alpha",
                         rtol=1e-9, atol=1e-12, what=f"length_penalty({length}, {alpha})")


@check("with alpha = 0 (plain beam search) agrees with a step-by-step simulation on random LMs", points=2)
def plain_beam_matches_oracle(run):
    rule = "keep the beam_size best candidates over the whole beam by summed log-prob (alpha = 0)"
    for seed, vocab, k, max_len in [(1, 5, 2, 4), (2, 6, 3, 5), (3, 7, 4, 6), (4, 5, 5, 4), (5, 8, 3, 7)]:
        run_case(run, seed, vocab, k, max_len, 0.0, rule, eos_bias=0.5)


@check("with alpha > 0 agrees with a step-by-step simulation on random LMs (finished ones compete)", points=2)
def normalised_beam_matches_oracle(run):
    rule = ("rank candidates by log P / length_penalty(len(tokens), alpha); finished hypotheses are carried "
            "over and compete with the extensions of the unfinished ones")
    # the last two are long searches: finished hypotheses sit in the beam for many steps
    for seed, vocab, k, max_len, alpha in [(11, 5, 2, 5, 0.6), (12, 6, 3, 6, 1.0), (13, 7, 4, 6, 0.6),
                                           (14, 5, 5, 5, 2.0), (15, 8, 3, 7, 1.5), (16, 6, 4, 6, None),
                                           (17, 6, 4, 8, 2.0), (18, 5, 3, 9, 1.0)]:
        run_case(run, seed, vocab, k, max_len, alpha, rule + ("; alpha defaults to 0.6" if alpha is None else ""),
                 bos=vocab - 1, eos=2, eos_bias=1.0)


@check("a beam of at least vocab ** max_len returns every complete hypothesis: the exhaustive optimum first",
       points=2)
def exhaustive_optimum(run):
    rule = ("with beam_size >= vocab ** max_len nothing is pruned: the answer is the exhaustive search, "
            "best score first")
    for seed, vocab, max_len, alpha in [(21, 3, 4, 0.6), (22, 4, 3, 1.0), (23, 5, 2, 0.0)]:
        k = vocab ** max_len
        lm, want = pick_lm(seed, vocab, k, max_len, alpha, eos_bias=0.5)
        enum = exhaustive(lm, 0, 1, max_len, alpha)
        assert [t for t, _ in enum] == [t for t, _ in want]          # the two oracles agree
        case = f"ToyLM(vocab={vocab}, seed={lm.seed}), beam_size={k}, max_len={max_len}, alpha={alpha}"
        got = V.read_hyps(run(V.search, lm, 0, 1, k, max_len, alpha))
        expect(bool(got) and got[0][0] == enum[0][0],
               rule, f"{case}: the best of all {len(enum)} complete hypotheses is {V.show(enum[:1])}, your code's "
                     f"best is {V.show(got[:1])}")
        expect_search(got, enum, rule, case, 0, 1)


@check("beam_size = 1 with alpha = 0 is greedy decoding")
def beam_one_is_greedy(run):
    for seed, vocab, max_len in [(31, 5, 6), (32, 8, 8), (33, 4, 5)]:
        lm, _ = pick_lm(seed, vocab, 1, max_len, 0.0, eos_bias=0.3)
        tokens, s = greedy(lm, 0, 1, max_len)
        case = f"ToyLM(vocab={vocab}, seed={lm.seed}), beam_size=1, max_len={max_len}, alpha=0"
        expect_search(run(V.search, lm, 0, 1, 1, max_len, 0.0), [(tokens, s)],
                      "a beam of one keeps the single most likely next token each step (greedy decoding)", case, 0, 1)


@check("every returned score equals its tokens' summed log-probs / length_penalty(len(tokens), alpha)")
def scores_are_consistent(run):
    rule = "score = sum of the log-probs step_fn gave the hypothesis's tokens / length_penalty(len(tokens), alpha)"
    for seed, vocab, k, max_len, alpha in [(41, 6, 3, 5, 0.6), (42, 5, 4, 6, 1.0), (43, 7, 2, 4, 2.0)]:
        lm, _ = pick_lm(seed, vocab, k, max_len, alpha, bos=3, eos=2, eos_bias=1.0)
        got = V.read_hyps(run(V.search, lm, 3, 2, k, max_len, alpha))
        expect(len(got) > 0, rule, "beam_search returned no hypothesis")
        for tokens, score in got:
            expect(all(0 <= t < vocab for t in tokens), rule, f"tokens {tokens} are not all token ids 0..{vocab - 1}")
            expect_close(score, recomputed_score(lm, 3, tokens, alpha), rule, rtol=1e-5, atol=1e-4,
                         what=f"score of {tokens} (ToyLM seed {lm.seed}, alpha={alpha})")


@check("the hypotheses come back best score first")
def sorted_best_first(run):
    for seed, vocab, k, max_len, alpha in [(51, 6, 5, 5, 0.6), (52, 5, 6, 4, 0.0)]:
        lm, want = pick_lm(seed, vocab, k, max_len, alpha, eos_bias=1.0)
        got = V.read_hyps(run(V.search, lm, 0, 1, k, max_len, alpha))
        scores = [s for _, s in got]
        expect_close(sorted(scores, reverse=True), [s for _, s in want],
                     "score = summed log-probs / length_penalty of the kept hypotheses", rtol=1e-5, atol=1e-4,
                     what=f"the returned scores, sorted (ToyLM seed {lm.seed}, beam_size={k}, alpha={alpha})")
        expect(all(a >= b for a, b in zip(scores, scores[1:])),
               "return the kept hypotheses sorted by score, best first",
               f"your scores, in the order returned: {[round(s, 4) for s in scores]}")


@check("returned tokens exclude bos_id and end with eos_id exactly when the hypothesis has ended")
def tokens_exclude_bos_keep_eos(run):
    rule = "a hypothesis is the generated tokens only: no bos_id in front, eos_id last once it has ended"
    vocab, bos, eos, alpha = 6, 4, 5, 0.6
    for seed, k, max_len in [(62, 1, 8), (63, 1, 8), (67, 1, 8)]:   # beams of one: little search to get wrong
        lm, want = pick_lm(seed, vocab, k, max_len, alpha, bos=bos, eos=eos, eos_bias=1.0, bos_bias=-6.0)
        assert all(t[-1] == eos for t, _ in want)                        # every answer has ended
        expect_search(run(V.search, lm, bos, eos, k, max_len, alpha), want, rule,
                      f"ToyLM(vocab={vocab}, seed={lm.seed}), bos_id={bos}, eos_id={eos}, beam_size={k}, "
                      f"max_len={max_len}, alpha={alpha}", bos, eos, scores=False)


# "a" and "b" are 2 and 3, <bos> 0 and <eos> 1, as in the visible checks.
A, B = 2, 3
# [<eos>] ends at step 1 (log 0.3); at step 3, [a, a, b] and [a, a, a] have lower summed log-probs
# (log 0.24, log 0.2208) but better normalised scores with alpha = 1 (-1.07, -1.13 vs -1.20).
NORMALISATION_DECIDES = V.TableLM({(0,): [0.0, 0.3, 0.6, 0.1], (0, A): [0.0, 0.1, 0.8, 0.1],
                                   (0, A, A): [0.0, 0.04, 0.46, 0.5]}, default=[0.0, 0.1, 0.45, 0.45])


@check("finished and unfinished hypotheses are ranked together by normalised score, not by raw sum")
def normalisation_decides_survivors(run):
    rule = ("rank all candidates -- finished ones included -- by log P / length_penalty(len(tokens), alpha); "
            "with alpha = 0 that is the raw sum")
    for alpha, want in [(1.0, [([A, A, B], math.log(0.24) / (8 / 6)), ([A, A, A], math.log(0.2208) / (8 / 6))]),
                        (0.0, [([1], math.log(0.3)), ([A, A, B], math.log(0.24))])]:
        got = run(V.search, NORMALISATION_DECIDES, 0, 1, 2, 3, alpha)
        expect_search(got, want, rule, f"the table LM of this check, beam_size=2, max_len=3, alpha={alpha}", 0, 1)


@check("the search stops once every kept hypothesis has ended: step_fn is not called after that")
def stops_when_all_ended(run):
    vocab, k, max_len, alpha = 5, 3, 12, 0.6
    lm, want = pick_lm(71, vocab, k, max_len, alpha, eos_bias=3.0)
    steps = []
    oracle(lm, 0, 1, k, max_len, alpha, steps)
    assert steps[0] < max_len - 4                                 # the case ends early
    case = f"ToyLM(vocab={vocab}, seed={lm.seed}), beam_size={k}, max_len={max_len}, alpha={alpha}"
    got = run(V.search, lm, 0, 1, k, max_len, alpha, record=True)
    expect_search(got, want, "agree with the step-by-step simulation of the contract", case, 0, 1)
    longest = max((c.shape[1] for c in got["calls"] if isinstance(c, torch.Tensor) and c.dim() == 2 and len(c)),
                  default=0)
    expect(longest <= steps[0], "the search stops when every kept hypothesis has ended",
           f"{case}: every kept hypothesis has ended after step {steps[0]}, so the longest prefix step_fn needs has "
           f"{steps[0]} tokens (<bos> included); your code gave it prefixes of {longest} tokens")


@check("when no hypothesis ends, the search runs max_len steps and returns hypotheses of max_len tokens")
def max_len_without_eos(run):
    rule = "after max_len generated tokens the search stops; unfinished hypotheses are returned as they are"
    for seed, vocab, k, max_len in [(81, 6, 4, 5), (82, 4, 3, 7)]:
        lm, want = pick_lm(seed, vocab, k, max_len, 0.6, eos_bias=-30.0)
        case = f"ToyLM(vocab={vocab}, seed={lm.seed}, <eos> nearly impossible), beam_size={k}, max_len={max_len}"
        got = V.read_hyps(run(V.search, lm, 0, 1, k, max_len, 0.6))
        expect(len(got) > 0 and all(len(t) == max_len for t, _ in got), rule,
               f"{case}: lengths of the returned hypotheses: {[len(t) for t, _ in got]}, expected {max_len} each")
        expect_search(got, want, "when no hypothesis ends this is beam search over max_len steps: keep the "
                      "beam_size best candidates over the whole beam", case, 0, 1)


@check("step_fn is given a LongTensor of shape (n, t) holding prefixes that each start with bos_id")
def prefixes_start_with_bos(run):
    vocab, bos, eos, k, max_len, alpha = 6, 3, 1, 3, 4, 0.6
    rule = "step_fn takes a LongTensor [n, t] of prefixes, each one bos_id followed by a hypothesis's tokens"
    lm, _ = pick_lm(91, vocab, k, max_len, alpha, bos=bos, eos=eos)
    got = run(V.search, lm, bos, eos, k, max_len, alpha, record=True)
    expect_search(got, oracle(lm, bos, eos, k, max_len, alpha)[0], "beam search with bos_id = 3 and eos_id = 1",
                  f"ToyLM(vocab={vocab}, seed={lm.seed}), bos_id={bos}, eos_id={eos}", bos, eos)
    calls = got["calls"]
    expect(len(calls) > 0, rule, "beam_search never called step_fn")
    for i, c in enumerate(calls):
        expect(isinstance(c, torch.Tensor), rule, f"call {i} of step_fn got a {c}, not a tensor")
        expect(c.dim() == 2 and c.dtype == torch.long, rule,
               f"call {i} of step_fn got a tensor of shape {list(c.shape)} and dtype {c.dtype}")
        if len(c):
            expect(bool((c[:, 0] == bos).all()), rule,
                   f"call {i} of step_fn got prefixes whose first tokens are {c[:, 0].tolist()}, "
                   f"expected bos_id = {bos}")
    expect(calls[0].shape[1] == 1, rule,
           f"the first call should get the empty hypothesis's prefix [[{bos}]]; it got shape {list(calls[0].shape)}")


@check("stays finite and right for extreme log-probs (down to about -5000, and -inf for a masked token)")
def extreme_logprobs(run):
    rule = "sum log-probs (never multiply probabilities): unlikely hypotheses keep finite, ordered scores"
    # a wide beam keeps hypotheses of probability ~exp(-3000); a masked <bos> has log-prob -inf
    for seed, vocab, k, max_len, spread, bos_bias in [(101, 5, 10, 3, 1000.0, 0.0), (102, 6, 3, 5, 300.0, -math.inf)]:
        lm, want = pick_lm(seed, vocab, k, max_len, 0.6, spread=spread, bos_bias=bos_bias)
        masked = ", <bos> masked with -inf" if bos_bias else ""
        case = f"ToyLM(vocab={vocab}, seed={lm.seed}, spread={spread:g}{masked}), beam_size={k}, max_len={max_len}"
        got = V.read_hyps(run(V.search, lm, 0, 1, k, max_len, 0.6))
        expect(all(math.isfinite(s) for _, s in got), rule, f"{case}: your scores are {[s for _, s in got]}")
        expect_search(got, want, "extreme but valid log-probs change nothing: sum them and rank as usual",
                      case, 0, 1)


@check("edge cases: max_len = 1, and a beam wider than the vocabulary")
def small_edges(run):
    for seed, vocab, k, max_len in [(111, 5, 2, 1), (112, 4, 9, 1), (113, 3, 7, 2)]:
        run_case(run, seed, vocab, k, max_len, 0.6,
                 "max_len = 1 keeps the best single tokens; a beam wider than the candidates keeps them all",
                 eos_bias=1.0)
