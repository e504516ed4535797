"""Hidden graders of nlp/word_error_rate: the distance against a dynamic-programming oracle on
random word, character and integer sequences (empty ones included), the counts against the set of
every minimum-cost alignment's counts, the corpus WER and CER against the oracle (whitespace
handling, rates above 1), and corpora large enough that only a dynamic programme finishes.
tests/test_twins_nlp_word_error_rate.py checks the reference against jiwer."""
import random

from mlkata.checks import Fail, check, expect, expect_close, expect_equal, visible_module

V = visible_module("nlp/word_error_rate")


def oracle_distance(ref, hyp):
    d = [[i + j if i == 0 or j == 0 else 0 for j in range(len(hyp) + 1)] for i in range(len(ref) + 1)]
    for i in range(1, len(ref) + 1):
        for j in range(1, len(hyp) + 1):
            d[i][j] = min(d[i - 1][j - 1] + (ref[i - 1] != hyp[j - 1]), d[i - 1][j] + 1, d[i][j - 1] + 1)
    return d


def minimal_counts(ref, hyp):
    """Every (H, S, D, I) some minimum-cost alignment realises."""
    d = oracle_distance(ref, hyp)
    reach = {(0, 0): {(0, 0, 0, 0)}}
    for i in range(len(ref) + 1):
        for j in range(len(hyp) + 1):
            if (i, j) == (0, 0):
                continue
            here = set()
            if i and j and d[i][j] == d[i - 1][j - 1] + (ref[i - 1] != hyp[j - 1]):
                hit = ref[i - 1] == hyp[j - 1]
                here |= {(h + hit, s + (not hit), dl, ins) for h, s, dl, ins in reach[(i - 1, j - 1)]}
            if i and d[i][j] == d[i - 1][j] + 1:
                here |= {(h, s, dl + 1, ins) for h, s, dl, ins in reach[(i - 1, j)]}
            if j and d[i][j] == d[i][j - 1] + 1:
                here |= {(h, s, dl, ins + 1) for h, s, dl, ins in reach[(i, j - 1)]}
            reach[(i, j)] = here
    return reach[(len(ref), len(hyp))]


def oracle_wer(refs, hyps):
    return sum(oracle_distance(r.split(), h.split())[-1][-1] for r, h in zip(refs, hyps)) / \
        sum(len(r.split()) for r in refs)


def oracle_cer(refs, hyps):
    return sum(oracle_distance(r.strip(), h.strip())[-1][-1] for r, h in zip(refs, hyps)) / \
        sum(len(r.strip()) for r in refs)


VOCAB = "the a cat dog sat ran on mat hat big red".split()


def noisy(rng, words, p=0.3):
    """A hypothesis: words substituted, dropped, or with insertions, each with probability p / 3."""
    out = []
    for w in words:
        u = rng.random()
        if u < p / 3:
            out.append(rng.choice(VOCAB))
        elif u < 2 * p / 3:
            continue
        else:
            out.append(w)
        if rng.random() < p / 3:
            out.append(rng.choice(VOCAB))
    return out


def pairs(seed, n=8, max_len=12):
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        ref = [rng.choice(VOCAB) for _ in range(rng.randint(0, max_len))]
        out.append((ref, noisy(rng, ref, rng.choice([0.2, 0.5, 0.9]))))
    return out


def corpus(seed, n=6, max_len=15, p=0.4):
    rng = random.Random(seed)
    refs, hyps = [], []
    for _ in range(n):
        ref = [rng.choice(VOCAB) for _ in range(rng.randint(1, max_len))]
        refs.append(" ".join(ref))
        hyps.append(" ".join(noisy(rng, ref, p)))
    return refs, hyps


@check("edit_distance agrees with the dynamic programme on random word sequences (empty ones included)", points=2)
def distance_random(run):
    for seed in range(3):
        for ref, hyp in pairs(seed) + [([], ["a", "b"]), (["a", "b", "c"], []), ([], [])]:
            expect_equal(run(V.distance, ref, hyp), oracle_distance(ref, hyp)[-1][-1], "the fewest unit-cost "
                         "substitutions, deletions and insertions (d[i][0] = i, d[0][j] = j)",
                         what=f"edit_distance({' '.join(ref) or '<empty>'!r}, {' '.join(hyp) or '<empty>'!r})")


@check("edit_distance works on any sequence of hashable items: strings of characters, lists of ints")
def distance_any_items(run):
    rng = random.Random(7)
    for _ in range(6):
        a = [rng.randint(0, 4) for _ in range(rng.randint(0, 15))]
        b = [rng.randint(0, 4) for _ in range(rng.randint(0, 15))]
        expect_equal(run(V.distance, a, b), oracle_distance(a, b)[-1][-1], "items are compared with ==, whatever "
                     "they are", what=f"edit_distance({a}, {b})")
    expect_equal(run(V.distance, "intention", "execution"), 5, "a string is a sequence of characters",
                 what="edit_distance('intention', 'execution')")


@check("error_counts are those of a minimum-cost alignment, on random sentence pairs", points=2)
def counts_random(run):
    for seed in range(10, 13):
        for ref, hyp in pairs(seed) + [([], ["x"]), (["x", "y"], ["y", "x"])]:
            got = run(V.counts, ref, hyp)
            what = f"error_counts({' '.join(ref) or '<empty>'!r}, {' '.join(hyp) or '<empty>'!r})"
            keys = ("hits", "substitutions", "deletions", "insertions")
            if not isinstance(got, dict) or sorted(got) != sorted(keys):
                raise Fail("error_counts returns a dict with the keys hits, substitutions, deletions, insertions",
                           f"{what}: your code returned {got!r}"[:400])
            tup = tuple(got[k] for k in keys)
            allowed = minimal_counts(ref, hyp)
            if tup not in allowed:
                h, s, d, i = tup
                why = []
                if h + s + d != len(ref):
                    why.append(f"H + S + D = {h + s + d} but the reference has {len(ref)} words")
                if h + s + i != len(hyp):
                    why.append(f"H + S + I = {h + s + i} but the hypothesis has {len(hyp)} words")
                if s + d + i != oracle_distance(ref, hyp)[-1][-1]:
                    why.append(f"S + D + I = {s + d + i} but the edit distance is {oracle_distance(ref, hyp)[-1][-1]}")
                raise Fail("the counts come from one cheapest alignment: H + S + D = len(reference), "
                           "H + S + I = len(hypothesis), S + D + I = the edit distance",
                           f"{what}: your counts (H, S, D, I) = {tup}; cheapest alignments give one of "
                           f"{sorted(allowed)}" + (f" ({'; '.join(why)})" if why else ""))


@check("word_error_rate agrees with the corpus WER on random corpora (it may exceed 1)", points=2)
def wer_random(run):
    for seed, p in [(20, 0.3), (21, 0.6), (22, 1.5)]:
        refs, hyps = corpus(seed, p=p)
        expect_close(run(V.wer, refs, hyps), oracle_wer(refs, hyps), "WER = sum of the sentences' word edit distances "
                     "/ sum of their reference word counts", rtol=1e-12, what=f"word_error_rate (seed {seed})")


@check("words are separated by any whitespace; leading, trailing and repeated spaces change nothing")
def wer_whitespace(run):
    refs = ["  the cat\tsat  ", "on the\nmat"]
    hyps = ["the  cat sat", " on a mat   "]
    expect_close(run(V.wer, refs, hyps), 1 / 6, "split sentences with str.split() (no argument): 'the  cat' is two "
                 "words, not three", rtol=1e-12, what="word_error_rate")


@check("char_error_rate agrees with the corpus CER (inner spaces are characters, outer ones stripped)")
def cer_random(run):
    refs, hyps = corpus(30, p=0.5)
    refs = [" " + r for r in refs]
    hyps = [h + "  " for h in hyps]
    expect_close(run(V.cer, refs, hyps), oracle_cer(refs, hyps), "CER = summed character edit distances of the "
                 "stripped sentences / their summed lengths", rtol=1e-12, what="char_error_rate")


@check("a corpus of 40 sentences of up to 60 words is scored quickly (a dynamic programme, not a search)")
def large_corpus(run):
    refs, hyps = corpus(40, n=40, max_len=60)
    expect_close(run(V.wer, refs, hyps), oracle_wer(refs, hyps), "the dynamic programme costs len(ref) * len(hyp) "
                 "per sentence", rtol=1e-12, what="word_error_rate (40 sentences)")
