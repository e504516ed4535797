"""Hidden graders of nlp/diverse_beam_search: beam_step against a literal simulation on random
beams and penalties, the whole search against a step-by-step simulation on random toy language
models (cases chosen with no near-tie at any cut), one group = plain beam search, lambda = 0 =
identical groups, true log-probabilities as scores, finished hypotheses not counted, and the calls
made to step_fn.  transformers 5 has no group beam search any more: the oracle is the contract."""
import math
import random

import torch

from mlkata.checks import Fail, check, expect, expect_close, visible_module

V = visible_module("nlp/diverse_beam_search")

MARGIN = 1e-3


def ended(tokens, eos):
    return bool(tokens) and tokens[-1] == eos


def oracle_step(beam, rows, eos, size, penalty, margins=None):
    cands = []
    alive = [h for h in beam if not ended(h[0], eos)]
    cands += [(s, t, s) for t, s in beam if ended(t, eos)]
    for (tokens, s), row in zip(alive, rows):
        for v, lp in enumerate(row):
            cands.append((s + lp - penalty[v], tokens + [v], s + lp))
    cands.sort(key=lambda c: c[0], reverse=True)
    if margins is not None and len(cands) > size:
        gap = cands[size - 1][0] - cands[size][0]
        margins.append(gap if gap == gap else 0.0)
    if margins is not None:
        margins += [a[0] - b[0] for a, b in zip(cands[:size], cands[1:size]) if a[0] - b[0] == a[0] - b[0]]
    return [(t, s) for _, t, s in cands[:size]]


def oracle_search(lm, G, B, max_len, lam, bos=0, eos=1, margins=None):
    groups = [[([], 0.0)] for _ in range(G)]
    for step in range(max_len):
        if all(ended(t, eos) for g in groups for t, _ in g):
            break
        counts = [0] * lm.vocab
        for g in range(G):
            alive = [h for h in groups[g] if not ended(h[0], eos)]
            if not alive:
                continue
            rows = [lm.row([bos] + t).double().tolist() for t, _ in alive]
            groups[g] = oracle_step(groups[g], rows, eos, B, [lam * c for c in counts], margins)
            for t, _ in groups[g]:
                if len(t) == step + 1:
                    counts[t[-1]] += 1
    return [sorted(g, key=lambda h: h[1], reverse=True) for g in groups]


def pick_lm(seed, G, B, max_len, lam, vocab=6, **kw):
    """The first ToyLM from ``seed`` with no near-tie at any cut or in any final order."""
    for i in range(200):
        lm = V.ToyLM(vocab, seed * 1000 + i, **kw)
        margins = []
        want = oracle_search(lm, G, B, max_len, lam, margins=margins)
        finals = [s for g in want for s in [h[1] for h in g]]
        order_gaps = [a[1] - b[1] for g in want for a, b in zip(g, g[1:])]
        if min(margins + order_gaps + [math.inf]) > MARGIN:
            return lm, want
    raise RuntimeError("no tie-free toy LM")            # pragma: no cover


def expect_groups(run, lm, G, B, max_len, lam, want, rule):
    case = f"ToyLM(vocab={lm.vocab}, seed={lm.seed}), {G} groups of {B}, max_len={max_len}, lambda={lam}"
    got = V.read_groups(run(V.search, lm, G, B, max_len, lam), G)
    for g in range(G):
        V.expect_beam(got[g], want[g], rule, f"{case}: group {g}")
    return got


@check("beam_step agrees with a literal simulation on random beams, penalties and vocabularies", points=2)
def step_random(run):
    rng = random.Random(0)
    for trial in range(8):
        vocab, size = rng.randint(3, 7), rng.randint(1, 5)
        beam = []
        for _ in range(rng.randint(1, 4)):
            tokens = [rng.randint(2, vocab - 1) for _ in range(rng.randint(0, 3))]
            if tokens and rng.random() < 0.3:
                tokens.append(1)
            beam.append((tokens, -rng.random() * 5))
        alive = [h for h in beam if not ended(h[0], 1)]
        rows = torch.log_softmax(torch.randn(len(alive), vocab, generator=torch.Generator().manual_seed(trial)) * 2, -1)
        penalty = torch.tensor([rng.choice([0.0, 0.0, 0.7, 1.5]) for _ in range(vocab)])
        want = oracle_step(beam, rows.double().tolist(), 1, size, penalty.tolist())
        got = V.read_beam(run(V.step, beam, rows, 1, size, penalty), "beam_step")
        V.expect_beam(got, want, "candidates: finished hypotheses as they are (key = score) and every extension of "
                      "an unfinished one (key = score + log p - penalty[v]); keep the beam_size best keys, best first",
                      f"beam_step (trial {trial}, beam_size {size})")


@check("diverse_beam_search agrees with a step-by-step simulation on random language models", points=3)
def search_random(run):
    for seed, G, B, max_len, lam, kw in [(1, 3, 2, 4, 1.0, {}), (2, 2, 3, 5, 0.5, {"eos_bias": 1.0}),
                                         (3, 4, 1, 4, 2.0, {}), (4, 3, 2, 6, 0.8, {"eos_bias": 0.5})]:
        lm, want = pick_lm(seed, G, B, max_len, lam, **kw)
        expect_groups(run, lm, G, B, max_len, lam, want, "groups move in order each step; group g ranks its "
                      "extensions by log-prob - lambda * (times an earlier group appended that token at this step)")


@check("one group is plain beam search (nlp/beam_search with alpha = 0)")
def one_group(run):
    lm, want = pick_lm(5, 1, 3, 5, 1.0, eos_bias=0.5)
    expect_groups(run, lm, 1, 3, 5, 1.0, want, "group 0 never pays a penalty: with one group this is beam search")


@check("lambda = 0: every group is the same beam; scores are true log-probabilities for any lambda")
def zero_penalty_and_true_scores(run):
    lm, want = pick_lm(6, 3, 2, 4, 0.0)
    expect_groups(run, lm, 3, 2, 4, 0.0, want, "without the penalty the groups cannot differ")
    lm, want = pick_lm(7, 3, 2, 4, 3.0)
    got = V.read_groups(run(V.search, lm, 3, 2, 4, 3.0), 3)
    for g, group in enumerate(got):
        for tokens, score in group:
            true = 0.0
            prefix = [0]
            for t in tokens:
                true += float(lm.row(prefix)[t])
                prefix.append(t)
            expect_close(score, true, "the returned score is the hypothesis's true log-probability: the penalty "
                         "steers the choice, it is not added to the score", rtol=1e-5, atol=1e-4,
                         what=f"score of {tokens} in group {g} (lambda = 3)")


@check("finished hypotheses carried over append no token and do not count towards later groups' penalties")
def finished_not_counted(run):
    # <eos> is very likely after "a": group 0's hypotheses end early and are carried over
    lm = V.TableLM({(0,): [0.0, 0.02, 0.5, 0.28, 0.2], (0, 2): [0.0, 0.9, 0.05, 0.035, 0.015]},
                   default=[0.0, 0.17, 0.31, 0.29, 0.23])
    margins = []
    want = oracle_search(lm, 3, 2, 4, 1.0, margins=margins)
    if min(margins) <= MARGIN:
        raise RuntimeError("this hand-made case must have no near-tie")      # pragma: no cover
    got = V.read_groups(run(V.search, lm, 3, 2, 4, 1.0), 3)
    for g in range(3):
        V.expect_beam(got[g], want[g], "count only the tokens appended at this step (len(tokens) == step + 1): a "
                      "finished hypothesis that is carried over appends nothing", f"group {g}")


@check("step_fn gets each group's unfinished prefixes (bos first), and nothing once every hypothesis has ended")
def calls(run):
    lm, want = pick_lm(8, 2, 2, 6, 1.0, eos_bias=2.0)
    got = run(V.search, lm, 2, 2, 6, 1.0, True)
    V.read_groups(got, 2)
    calls = got["calls"]
    expect(all(isinstance(c, torch.Tensor) for c in calls), "step_fn is called with a LongTensor of prefixes",
           f"it was called with {[c for c in calls if not isinstance(c, torch.Tensor)][:1]}")
    expect(all(bool((c[:, 0] == 0).all()) for c in calls), "every prefix given to step_fn starts with bos_id",
           "a prefix did not start with bos_id (0)")
    expect(all(not bool((c[:, 1:] == 1).any()) for c in calls), "only unfinished hypotheses are extended: no "
           "prefix given to step_fn contains <eos>", "a prefix holding <eos> (1) was given to step_fn")
    longest = max(len(t) for g in want for t, _ in g)
    expect(max(c.shape[1] for c in calls) == longest, "the search stops once every hypothesis has ended (or after "
           "max_len steps)", f"the longest prefix given to step_fn has {max(c.shape[1] for c in calls)} tokens; "
           f"with bos the search needs at most {longest}")


@check("diversity_penalty defaults to 1.0: a search that leaves it out agrees with lambda = 1, not 0.8 or 1.25")
def default_penalty(run):
    for i in range(200):
        lm = V.ToyLM(6, 12000 + i)
        margins = []
        want = oracle_search(lm, 3, 2, 4, 1.0, margins=margins)
        order_gaps = [a[1] - b[1] for g in want for a, b in zip(g, g[1:])]
        if min(margins + order_gaps + [math.inf]) > MARGIN and \
                all(oracle_search(lm, 3, 2, 4, lam) != want for lam in (0.8, 1.25)):
            break
    else:
        raise RuntimeError("no tie-free toy LM that tells the default apart")      # pragma: no cover
    case = f"ToyLM(vocab=6, seed={lm.seed}), 3 groups of 2, max_len=4, diversity_penalty left to its default"
    got = V.read_groups(run(V.search, lm, 3, 2, 4), 3)
    for g in range(3):
        V.expect_beam(got[g], want[g], "diversity_penalty defaults to 1.0 (lambda = 1: an earlier group's choice of "
                      "the same token costs exactly 1 nat)", f"{case}: group {g}")
