# CORRECT, written differently: n-grams by zip, clipping with Counter intersection per reference, the score from a (order x [matches, total]) table.
from collections import Counter
import math


def ngram_counts(tokens, n):
    return Counter(zip(*(tokens[i:] for i in range(n)))) if n <= len(tokens) else Counter()


def clipped_matches(hypothesis, references, n):
    hyp = ngram_counts(hypothesis, n)
    clipped = Counter()
    for ref in references:
        clipped |= hyp & ngram_counts(ref, n)
    return sum(clipped.values()), sum(hyp.values())


def closest_reference_length(hypothesis_length, reference_lengths):
    return sorted(reference_lengths)[min(range(len(reference_lengths)),
                                         key=lambda i: abs(sorted(reference_lengths)[i] - hypothesis_length))]


def corpus_bleu(hypotheses, references, max_order=4, smooth="exp"):
    table = [[0, 0] for _ in range(max_order)]
    c = sum(len(h) for h in hypotheses)
    r = sum(closest_reference_length(len(h), [len(x) for x in refs]) for h, refs in zip(hypotheses, references))
    for h, refs in zip(hypotheses, references):
        for n in range(max_order):
            m, t = clipped_matches(h, refs, n + 1)
            table[n][0] += m
            table[n][1] += t
    if all(m == 0 for m, _ in table) or any(t == 0 for _, t in table):
        return 0.0
    if smooth == "none" and any(m == 0 for m, _ in table):
        return 0.0
    divisor, product = 1, 1.0
    for m, t in table:
        if m == 0:
            divisor *= 2
            product *= 1 / (divisor * t)
        else:
            product *= m / t
    brevity = min(1.0, math.exp(1 - r / c)) if c else 0.0
    return 100 * brevity * product ** (1 / max_order)
