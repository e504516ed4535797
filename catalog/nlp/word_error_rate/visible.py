"""Visible checks: a distance, a set of counts, and the corpus WER on tiny sentences."""
from mlkata.checks import check, expect_close, expect_equal, probe


@probe
def distance(sub, reference, hypothesis):
    return sub.edit_distance(reference, hypothesis)


@probe
def counts(sub, reference, hypothesis):
    return sub.error_counts(reference, hypothesis)


@probe
def wer(sub, references, hypotheses):
    return sub.word_error_rate(references, hypotheses)


@probe
def cer(sub, references, hypotheses):
    return sub.char_error_rate(references, hypotheses)


@check("edit_distance: 'kitten' -> 'sitting' is 3 edits, 'flaw' -> 'lawn' is 2")
def kitten(run):
    expect_equal(run(distance, list("kitten"), list("sitting")), 3, "the Levenshtein distance counts the fewest "
                 "substitutions, deletions and insertions: k->s, e->i, +g", what="edit_distance(kitten, sitting)")
    expect_equal(run(distance, list("flaw"), list("lawn")), 2, "'flaw' -> 'lawn': delete f, insert n",
                 what="edit_distance(flaw, lawn)")


@check("error_counts: a substitution and a deletion; a substitution and an insertion")
def counts_small(run):
    got = run(counts, "the cat sat on the mat".split(), "the bat sat on mat".split())
    expect_equal(got, {"hits": 4, "substitutions": 1, "deletions": 1, "insertions": 0}, "align 'the cat sat on the "
                 "mat' with 'the bat sat on mat': cat -> bat (S), one 'the' dropped (D), 4 hits",
                 what="error_counts")
    got = run(counts, "a quick brown fox jumps".split(), "a quick red fox jumps high".split())
    expect_equal(got, {"hits": 4, "substitutions": 1, "deletions": 0, "insertions": 1}, "align 'a quick brown fox "
                 "jumps' with 'a quick red fox jumps high': brown -> red (S), 'high' added (I), 4 hits",
                 what="error_counts")


@check("word_error_rate is corpus-level: total errors / total reference words")
def corpus_wer(run):
    got = run(wer, ["a b", "c d e f"], ["a x", "c d e f g h i"])
    expect_close(got, 4 / 6, "sentence 1 has 1 error in 2 words, sentence 2 has 3 (insertions) in 4: the corpus WER "
                 "is 4 / 6, not the mean of 1/2 and 3/4", what="word_error_rate")
