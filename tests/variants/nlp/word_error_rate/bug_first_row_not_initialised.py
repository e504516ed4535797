# BUG: initialises the table's first row and column to 0, so leading insertions and deletions are free.
from typing import Dict, List, Sequence


def edit_distance(reference: Sequence, hypothesis: Sequence) -> int:
    """The Levenshtein distance with unit costs between two sequences of hashable items (words or characters).

    Returns:
        the minimum number of substitutions, deletions and insertions turning ``reference`` into ``hypothesis``.
    """
    previous = [0] * (len(hypothesis) + 1)
    for i, r in enumerate(reference, 1):
        current = [0] * (len(hypothesis) + 1)
        for j, h in enumerate(hypothesis, 1):
            current[j] = min(previous[j - 1] + (r != h), previous[j] + 1, current[j - 1] + 1)
        previous = current
    return previous[-1]


def error_counts(reference: Sequence, hypothesis: Sequence) -> Dict[str, int]:
    """Hits, substitutions, deletions and insertions of one minimum-cost alignment.

    Returns:
        ``{"hits": H, "substitutions": S, "deletions": D, "insertions": I}`` with ``S + D + I`` equal to
        ``edit_distance(reference, hypothesis)``, ``H + S + D = len(reference)`` and
        ``H + S + I = len(hypothesis)``, realised by some alignment of minimum cost (which one is free).
    """
    n, m = len(reference), len(hypothesis)
    d = [[i + j if i == 0 or j == 0 else 0 for j in range(m + 1)] for i in range(n + 1)]
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            d[i][j] = min(d[i - 1][j - 1] + (reference[i - 1] != hypothesis[j - 1]), d[i - 1][j] + 1, d[i][j - 1] + 1)
    counts = {"hits": 0, "substitutions": 0, "deletions": 0, "insertions": 0}
    i, j = n, m
    while i > 0 or j > 0:                                           # walk back along one cheapest path
        if i > 0 and j > 0 and d[i][j] == d[i - 1][j - 1] + (reference[i - 1] != hypothesis[j - 1]):
            counts["hits" if reference[i - 1] == hypothesis[j - 1] else "substitutions"] += 1
            i, j = i - 1, j - 1
        elif i > 0 and d[i][j] == d[i - 1][j] + 1:
            counts["deletions"] += 1
            i -= 1
        else:
            counts["insertions"] += 1
            j -= 1
    return counts


def word_error_rate(references: List[str], hypotheses: List[str]) -> float:
    """Corpus WER: the summed word edit distances over the summed number of reference words.

    Args:
        references, hypotheses: lists of the same length of sentences; words are ``sentence.split()``
            (any whitespace separates, leading and trailing whitespace is ignored).  Every reference
            has at least one word.

    Returns:
        ``sum_k edit_distance(ref_k words, hyp_k words) / sum_k len(ref_k words)``, a float (it may exceed 1).
    """
    errors = sum(edit_distance(r.split(), h.split()) for r, h in zip(references, hypotheses))
    return errors / sum(len(r.split()) for r in references)


def char_error_rate(references: List[str], hypotheses: List[str]) -> float:
    """Corpus CER: as ``word_error_rate`` on characters of each sentence with its leading and trailing
    whitespace removed (``s.strip()``); inner spaces are characters like any other (jiwer's default)."""
    errors = sum(edit_distance(r.strip(), h.strip()) for r, h in zip(references, hypotheses))
    return errors / sum(len(r.strip()) for r in references)
