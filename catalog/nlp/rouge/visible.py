"""Visible checks: tokens, clipped unigram overlap, and a subsequence that is not a substring."""
from mlkata.checks import Fail, check, expect_close, expect_equal, probe


@probe
def tokens(sub, text):
    return sub.tokenize(text)


@probe
def n_score(sub, target, prediction, n):
    return sub.rouge_n(target, prediction, n)


@probe
def l_score(sub, target, prediction):
    return sub.rouge_l(target, prediction)


@probe
def scores(sub, target, prediction):
    return sub.rouge_scores(target, prediction)


def triple(got, what):
    if not isinstance(got, (list, tuple)) or len(got) != 3 or \
            not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in got):
        raise Fail("a ROUGE score is a (precision, recall, fmeasure) triple of floats", f"{what}: got {got!r}"[:300])
    return [float(x) for x in got]


@check("tokenize lower-cases and splits on anything that is not a letter or digit")
def tokenizing(run):
    expect_equal(run(tokens, "The cat's hat -- 3 sizes TOO big!"), ["the", "cat", "s", "hat", "3", "sizes", "too",
                 "big"], "lower-case, replace every run of [^a-z0-9] by a space, split", what="tokenize")


@check("ROUGE-1 clips repeated words: 'the the the' vs 'the cat' overlaps in one 'the'")
def unigram(run):
    got = triple(run(n_score, ["the", "cat"], ["the", "the", "the"], 1), "rouge_n")
    p, r = 1 / 3, 1 / 2
    expect_close(got, [p, r, 2 * p * r / (p + r)], "overlap 1 (min of the counts); precision over the prediction's "
                 "3 unigrams, recall over the target's 2", what="rouge_n(target='the cat', prediction='the the the', 1)")


@check("ROUGE-L uses the longest common SUBSEQUENCE: 'a b c d' and 'a x c d' share 'a c d'")
def subsequence(run):
    got = triple(run(l_score, ["a", "b", "c", "d"], ["a", "x", "c", "d", "e"]), "rouge_l")
    p, r = 3 / 5, 3 / 4
    expect_close(got, [p, r, 2 * p * r / (p + r)], "LCS = 3 (a, c, d in order, not contiguous); precision = 3 / 5 "
                 "prediction tokens, recall = 3 / 4 target tokens", what="rouge_l")
