"""BLEU: how many of a translation's n-grams appear in the reference translations.

BLEU (Papineni et al. 2002) scores a *corpus* of machine translations against human references:

* for n = 1..4, the **modified precision**: each hypothesis n-gram counts as correct at most as
  many times as it appears in the reference that contains it most often (so "the the the the"
  does not score 4/4 against "the cat"), summed over the corpus:
  ``p_n = sum_sentences clipped_matches_n / sum_sentences hypothesis_ngrams_n``;
* the **brevity penalty**, since precision alone rewards saying little: with ``c`` the total
  hypothesis length and ``r`` the total of, per sentence, the reference length closest to the
  hypothesis's (ties go to the shorter reference), ``BP = 1 if c >= r else exp(1 - r / c)``;
* ``BLEU = 100 * BP * exp(mean_n log p_n)``, the geometric mean of the four precisions.

This is ``sacrebleu.corpus_bleu(hyps, refs, tokenize="none")``, sacreBLEU being the reference
implementation papers report (its default 13a tokenizer splits punctuation first; here sentences
come already tokenized).  A precision of 0 makes the geometric mean 0; sacreBLEU's default
``"exp"`` smoothing (NIST's, from mteval-v13a.pl) instead replaces the k-th zero precision met,
going up in n, by ``1 / (2^k * hypothesis_ngrams_n)``.  Statistics are summed over the corpus
*before* dividing: corpus BLEU is not the mean of sentence BLEUs.
"""
from collections import Counter
from typing import List, Tuple
import math

Tokens = List[str]


def ngram_counts(tokens: Tokens, n: int) -> Counter:
    """The n-grams of ``tokens`` (tuples of ``n`` consecutive tokens) with their counts; empty when
    ``len(tokens) < n``."""
    ### BEGIN SOLUTION
    return Counter(tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1))
    ### END SOLUTION


def clipped_matches(hypothesis: Tokens, references: List[Tokens], n: int) -> Tuple[int, int]:
    """``(clipped matches, hypothesis n-grams)`` of one sentence for order ``n``.

    Each distinct hypothesis n-gram contributes ``min(its count in the hypothesis, its largest count
    in any single reference)``; the second number is the hypothesis's total number of n-grams.
    """
    ### BEGIN SOLUTION
    hyp = ngram_counts(hypothesis, n)
    best = Counter()
    for ref in references:
        best |= ngram_counts(ref, n)                       # | keeps the max count of each n-gram
    return sum(min(c, best[g]) for g, c in hyp.items()), sum(hyp.values())
    ### END SOLUTION


def closest_reference_length(hypothesis_length: int, reference_lengths: List[int]) -> int:
    """The reference length closest to the hypothesis length; on a tie, the shorter one."""
    ### BEGIN SOLUTION
    return min(reference_lengths, key=lambda r: (abs(r - hypothesis_length), r))
    ### END SOLUTION


def corpus_bleu(hypotheses: List[Tokens], references: List[List[Tokens]], max_order: int = 4,
                smooth: str = "exp") -> float:
    """Corpus BLEU in ``[0, 100]``, as ``sacrebleu.corpus_bleu(..., tokenize="none", smooth_method=smooth)``.

    Args:
        hypotheses: one token list per sentence.
        references: for each sentence, a non-empty list of reference token lists.
        max_order: the largest n-gram order (4 for BLEU-4).
        smooth: ``"exp"`` or ``"none"``, for precisions with no clipped match (module docstring).

    Returns:
        a float.  0.0 when no n-gram of any order matches; with any order whose hypotheses contain no
        n-gram at all (every sentence shorter than n), the precisions from that order on count as 0
        and the score is 0.0; with ``c = 0`` the brevity penalty is 0.
    """
    ### BEGIN SOLUTION
    correct, total = [0] * max_order, [0] * max_order
    hyp_len = ref_len = 0
    for hyp, refs in zip(hypotheses, references):
        hyp_len += len(hyp)
        ref_len += closest_reference_length(len(hyp), [len(r) for r in refs])
        for n in range(1, max_order + 1):
            c, t = clipped_matches(hyp, refs, n)
            correct[n - 1] += c
            total[n - 1] += t
    if not any(correct):
        return 0.0
    bp = 1.0 if hyp_len >= ref_len else (math.exp(1 - ref_len / hyp_len) if hyp_len > 0 else 0.0)
    log_precisions, zeros_seen = [], 0
    for c, t in zip(correct, total):
        if t == 0:
            return 0.0                                     # no n-gram of this order: precision 0
        if c == 0:
            if smooth == "none":
                return 0.0
            zeros_seen += 1
            log_precisions.append(-math.log(2 ** zeros_seen * t))
        else:
            log_precisions.append(math.log(c / t))
    return 100.0 * bp * math.exp(sum(log_precisions) / max_order)
    ### END SOLUTION
