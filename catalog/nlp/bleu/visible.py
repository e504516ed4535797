"""Visible checks: clipping, the closest reference length, and two tiny corpora."""
import math

from mlkata.checks import check, expect_close, expect_equal, probe


@probe
def clipped(sub, hypothesis, references, n):
    return sub.clipped_matches(hypothesis, references, n)


@probe
def closest(sub, hypothesis_length, reference_lengths):
    return sub.closest_reference_length(hypothesis_length, reference_lengths)


@probe
def bleu(sub, hypotheses, references, options=None):
    return sub.corpus_bleu(hypotheses, references, **(options or {}))


@check("clipping: 'the the the the' has 1 matching unigram against 'the cat' (not 4)")
def clipping(run):
    got = run(clipped, "the the the the".split(), ["the cat".split(), "a cat".split()], 1)
    expect_equal(list(got) if isinstance(got, (list, tuple)) else got, [1, 4], "each hypothesis n-gram counts at "
                 "most as often as it appears in one reference: 'the' appears once in 'the cat'",
                 what="clipped_matches (matches, total)")


@check("the closest reference length, ties going to the shorter reference")
def closest_length(run):
    expect_equal(run(closest, 7, [4, 9, 6]), 6, "|6 - 7| = 1 is the smallest difference", what="closest to 7")
    expect_equal(run(closest, 5, [7, 3, 8]), 3, "3 and 7 are both 2 away from 5: the shorter one wins",
                 what="closest to 5")


@check("a perfect translation scores 100; a short exact prefix pays the brevity penalty")
def perfect_and_short(run):
    ref = "the quick brown fox jumps over the lazy dog".split()
    expect_close(run(bleu, [ref], [[ref]]), 100.0, "every precision is 1 and BP = 1: BLEU = 100",
                 what="corpus_bleu(identical)")
    hyp = ref[:6]                                           # 6 words of 9: every n-gram matches
    expect_close(run(bleu, [hyp], [[ref]]), 100 * math.exp(1 - 9 / 6), "all precisions are 1, so BLEU = 100 * BP "
                 "with BP = exp(1 - r / c) = exp(1 - 9 / 6)", what="corpus_bleu(6-word prefix)")
