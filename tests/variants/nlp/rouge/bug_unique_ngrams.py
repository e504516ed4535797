# BUG: counts distinct n-grams (sets) instead of occurrences, so repeated n-grams are under-counted on both sides.
import re
from collections import Counter
from typing import Dict, List, Tuple

Score = Tuple[float, float, float]        # (precision, recall, fmeasure)


def tokenize(text: str) -> List[str]:
    """rouge-score's tokens: lower-case, ``[^a-z0-9]+`` replaced by a space, split, empty tokens dropped."""
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).split()


def fmeasure(precision: float, recall: float) -> float:
    """The harmonic mean ``2 P R / (P + R)``; 0.0 when ``P + R = 0``."""
    return 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0


def rouge_n(target: List[str], prediction: List[str], n: int) -> Score:
    """ROUGE-N of token lists: ``(precision, recall, fmeasure)`` as floats (module docstring)."""
    def grams(tokens):
        return Counter(set(tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1)))

    ref, pred = grams(target), grams(prediction)
    overlap = sum(min(c, pred[g]) for g, c in ref.items())
    precision = overlap / max(sum(pred.values()), 1)
    recall = overlap / max(sum(ref.values()), 1)
    return precision, recall, fmeasure(precision, recall)


def lcs_length(a: List[str], b: List[str]) -> int:
    """The length of the longest common subsequence of two token lists (dynamic programming)."""
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0]
        for j, y in enumerate(b, 1):
            current.append(previous[j - 1] + 1 if x == y else max(previous[j], current[j - 1]))
        previous = current
    return previous[-1]


def rouge_l(target: List[str], prediction: List[str]) -> Score:
    """ROUGE-L of token lists: ``(precision, recall, fmeasure)``; all 0 when either list is empty."""
    if not target or not prediction:
        return 0.0, 0.0, 0.0
    lcs = lcs_length(target, prediction)
    precision, recall = lcs / len(prediction), lcs / len(target)
    return precision, recall, fmeasure(precision, recall)


def rouge_scores(target: str, prediction: str) -> Dict[str, Score]:
    """``{"rouge1": ..., "rouge2": ..., "rougeL": ...}`` of two texts, each a ``(precision, recall,
    fmeasure)`` triple, as ``RougeScorer(["rouge1", "rouge2", "rougeL"]).score(target, prediction)``."""
    ref, pred = tokenize(target), tokenize(prediction)
    return {"rouge1": rouge_n(ref, pred, 1), "rouge2": rouge_n(ref, pred, 2), "rougeL": rouge_l(ref, pred)}
