"""Hidden graders of nlp/bleu: n-gram counts, clipping against several references, the closest
reference length, and corpus BLEU against a re-derivation of sacreBLEU's statistics and score
(tests/test_twins_nlp_bleu.py checks the reference and this oracle against sacrebleu itself) on
random corpora with one to three references, brevity penalties, both smoothings, corpora without
matches or too short for 4-grams, and max_order 2."""
import math
import random

from mlkata.checks import Fail, check, expect, expect_close, expect_equal, visible_module

V = visible_module("nlp/bleu")


def grams(tokens, n):
    return [tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1)]


def oracle_clipped(hyp, refs, n):
    hyp_grams = grams(hyp, n)
    matched = 0
    for g in set(hyp_grams):
        matched += min(hyp_grams.count(g), max(grams(r, n).count(g) for r in refs))
    return matched, len(hyp_grams)


def oracle_closest(h, lengths):
    return sorted(lengths, key=lambda r: (abs(r - h), r))[0]


def oracle_bleu(hyps, refs, max_order=4, smooth="exp"):
    correct, total = [0] * max_order, [0] * max_order
    c = r = 0
    for hyp, rs in zip(hyps, refs):
        c += len(hyp)
        r += oracle_closest(len(hyp), [len(x) for x in rs])
        for n in range(1, max_order + 1):
            m, t = oracle_clipped(hyp, rs, n)
            correct[n - 1] += m
            total[n - 1] += t
    if sum(correct) == 0:
        return 0.0
    bp = 1.0 if c >= r else (math.exp(1 - r / c) if c else 0.0)
    precisions, k = [], 1
    for m, t in zip(correct, total):
        if t == 0:
            return 0.0
        if m == 0:
            if smooth == "none":
                return 0.0
            k *= 2
            precisions.append(1 / (k * t))
        else:
            precisions.append(m / t)
    return 100 * bp * math.exp(sum(math.log(p) for p in precisions) / max_order)


VOCAB = "the a cat dog sat on mat big red ran".split()


def sentence(rng, lo=1, hi=14):
    return [rng.choice(VOCAB) for _ in range(rng.randint(lo, hi))]


def translate(rng, ref, p):
    """A noisy copy of ``ref``: tokens replaced, dropped or repeated."""
    out = []
    for w in ref:
        u = rng.random()
        if u < p / 3:
            out.append(rng.choice(VOCAB))
        elif u < 2 * p / 3:
            continue
        else:
            out.append(w)
            if rng.random() < p / 6:
                out.append(w)
    return out


def random_corpus(seed, n=6, n_refs=1, p=0.4, lo=4, hi=14):
    rng = random.Random(seed)
    refs = [[sentence(rng, lo, hi) for _ in range(n_refs)] for _ in range(n)]
    hyps = [translate(rng, rs[0], p) for rs in refs]
    return hyps, refs


def as_pair(got, what):
    if not isinstance(got, (list, tuple)) or len(got) != 2:
        raise Fail("clipped_matches returns a pair (clipped matches, hypothesis n-grams)",
                   f"{what}: your code returned {got!r}"[:300])
    return [int(x) for x in got]


def expect_bleu(run, hyps, refs, options, rule, what):
    got = run(V.bleu, hyps, refs, options)
    if isinstance(got, bool) or not isinstance(got, (int, float)):
        raise Fail("corpus_bleu returns a float between 0 and 100", f"{what}: your code returned {got!r}"[:300])
    expect_close(float(got), oracle_bleu(hyps, refs, **options), rule, rtol=1e-9, atol=1e-9, what=what)




@check("ngram_counts and clipped_matches agree with brute-force counting, orders 1 to 4, up to three references",
       points=2)
def clipping_random(run):
    rng = random.Random(0)
    for _ in range(12):
        hyp = sentence(rng, 0, 12)
        refs = [sentence(rng, 1, 12) for _ in range(rng.randint(1, 3))]
        for n in range(1, 5):
            got = as_pair(run(V.clipped, hyp, refs, n), f"order {n}")
            expect_equal(got, list(oracle_clipped(hyp, refs, n)), "a hypothesis n-gram counts at most as often as it "
                         "appears in the single reference holding it most often; the total is all hypothesis n-grams "
                         "(0 when the sentence is shorter than n)",
                         what=f"clipped_matches({' '.join(hyp)!r}, {len(refs)} refs, n={n})")


@check("closest_reference_length on random lengths (ties to the shorter)")
def closest_random(run):
    rng = random.Random(1)
    for _ in range(20):
        lengths = [rng.randint(1, 12) for _ in range(rng.randint(1, 4))]
        h = rng.randint(0, 14)
        expect_equal(run(V.closest, h, lengths), oracle_closest(h, lengths), "minimise |r - c|; on a tie take the "
                     "shorter reference", what=f"closest_reference_length({h}, {lengths})")


@check("corpus_bleu agrees with sacreBLEU's corpus BLEU on random corpora with one reference", points=2)
def bleu_one_reference(run):
    for seed, p in [(10, 0.2), (11, 0.4), (12, 0.6), (13, 0.1)]:
        hyps, refs = random_corpus(seed, p=p)
        expect_bleu(run, hyps, refs, {}, "BLEU = 100 * BP * exp(mean_n log p_n) from corpus-wide clipped counts and "
                    "lengths (exp smoothing by default)", f"corpus_bleu (seed {seed})")


@check("several references: clip by the best reference, brevity from the closest length", points=2)
def bleu_several_references(run):
    for seed in (20, 21, 22):
        hyps, refs = random_corpus(seed, n_refs=3, p=0.5, lo=3, hi=16)
        expect_bleu(run, hyps, refs, {}, "with several references an n-gram is clipped by its largest count in any "
                    "one reference, and r sums the reference lengths closest to each hypothesis",
                    f"corpus_bleu (3 references, seed {seed})")


@check("corpus statistics: BLEU of a corpus is not the mean of its sentences' BLEU; the brevity penalty is corpus-wide")
def corpus_not_mean(run):
    hyps = ["the cat sat on the mat".split(), "a dog".split()]
    refs = [["the cat sat on the mat".split()], ["a big dog ran on the red mat".split()]]
    expect_bleu(run, hyps, refs, {}, "sum the clipped matches, the n-gram counts and the lengths over the corpus, "
                "then compute one score (the second, short sentence lowers BP for the whole corpus)",
                "corpus_bleu (one perfect and one short sentence)")


@check("smoothing: 'none' gives 0 when an order has no match, 'exp' gives 1 / (2^k * n-grams) to the k-th such order")
def smoothing(run):
    rng = random.Random(30)
    hyps, refs = [], []
    for _ in range(4):
        ref = sentence(rng, 6, 10)
        hyp = list(ref)
        for i in range(1, len(hyp), 2):
            hyp[i] = rng.choice(VOCAB)                      # every other token changed: few 3- and 4-grams match
        hyps.append(hyp)
        refs.append([ref])
    assert oracle_bleu(hyps, refs) > 0 == oracle_bleu(hyps, refs, smooth="none")     # some order has no match
    for options in ({"smooth": "exp"}, {"smooth": "none"}, {}):
        expect_bleu(run, hyps, refs, options, "a precision of 0: 'none' makes BLEU 0, 'exp' (the default) replaces "
                    "the k-th zero precision (counting zero orders, going up in n) by 1 / (2^k * that order's "
                    "hypothesis n-grams)", f"corpus_bleu(smooth={options['smooth']!r})" if options else
                    "corpus_bleu(smooth left to its default, 'exp')")


@check("edge cases: no match at all is 0, sentences too short for 4-grams score 0, max_order = 2 works")
def edge_cases(run):
    expect_bleu(run, [["x", "y", "z"]], [[["a", "b", "c"]]], {}, "no n-gram of any order matches: BLEU is 0",
                "corpus_bleu(no match)")
    expect_bleu(run, [["the", "cat"], ["a"]], [[["the", "cat"]], [["a"]]], {}, "no hypothesis has a 3-gram: that "
                "precision is 0 (0/0) and so is BLEU-4, even with smoothing", "corpus_bleu(2- and 1-word sentences)")
    hyps, refs = random_corpus(40, p=0.5)
    expect_bleu(run, hyps, refs, {"max_order": 2}, "max_order = 2 averages the log precisions of orders 1 and 2 only",
                "corpus_bleu(max_order=2)")
