"""ROUGE: how much of the reference a summary recovers.

BLEU asks how much of a translation is right (precision); summarisation asks how much of the
reference summary was found (recall), so it is scored with ROUGE (Lin 2004, "ROUGE: A Package
for Automatic Evaluation of Summaries"), reported as precision, recall and their harmonic mean F1:

* **ROUGE-N**: n-gram overlap, each n-gram counted at most as often as it occurs in the other
  text, ``overlap = sum_g min(count_ref(g), count_pred(g))``;
  ``P = overlap / #pred n-grams``, ``R = overlap / #ref n-grams`` (each divisor at least 1);
* **ROUGE-L**: the length of the longest common *subsequence* (in order, not necessarily
  contiguous) of the two token lists, ``P = LCS / len(pred)``, ``R = LCS / len(ref)``, and all
  three 0 when either text has no token;
* ``F1 = 2 P R / (P + R)``, and 0 when ``P + R = 0``.

Texts are tokenised as Google's ``rouge-score`` package does (the one Hugging Face ``evaluate``
wraps): lower-case, every run of characters outside ``[a-z0-9]`` becomes a space, split on
whitespace, drop empty tokens.  This is ``rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"])``
without stemming; note its argument order, ``score(target, prediction)``: the reference first.
"""
import re
from collections import Counter
from typing import Dict, List, Tuple

Score = Tuple[float, float, float]        # (precision, recall, fmeasure)


def tokenize(text: str) -> List[str]:
    """rouge-score's tokens: lower-case, ``[^a-z0-9]+`` replaced by a space, split, empty tokens dropped."""
    ### BEGIN SOLUTION
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).split()
    ### END SOLUTION


def fmeasure(precision: float, recall: float) -> float:
    """The harmonic mean ``2 P R / (P + R)``; 0.0 when ``P + R = 0``."""
    ### BEGIN SOLUTION
    return 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    ### END SOLUTION


def rouge_n(target: List[str], prediction: List[str], n: int) -> Score:
    """ROUGE-N of token lists: ``(precision, recall, fmeasure)`` as floats (module docstring)."""
    ### BEGIN SOLUTION
    def grams(tokens):
        return Counter(tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1))

    ref, pred = grams(target), grams(prediction)
    overlap = sum(min(c, pred[g]) for g, c in ref.items())
    precision = overlap / max(sum(pred.values()), 1)
    recall = overlap / max(sum(ref.values()), 1)
    return precision, recall, fmeasure(precision, recall)
    ### END SOLUTION


def lcs_length(a: List[str], b: List[str]) -> int:
    """The length of the longest common subsequence of two token lists (dynamic programming)."""
    ### BEGIN SOLUTION
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0]
        for j, y in enumerate(b, 1):
            current.append(previous[j - 1] + 1 if x == y else max(previous[j], current[j - 1]))
        previous = current
    return previous[-1]
    ### END SOLUTION


def rouge_l(target: List[str], prediction: List[str]) -> Score:
    """ROUGE-L of token lists: ``(precision, recall, fmeasure)``; all 0 when either list is empty."""
    ### BEGIN SOLUTION
    if not target or not prediction:
        return 0.0, 0.0, 0.0
    lcs = lcs_length(target, prediction)
    precision, recall = lcs / len(prediction), lcs / len(target)
    return precision, recall, fmeasure(precision, recall)
    ### END SOLUTION


def rouge_scores(target: str, prediction: str) -> Dict[str, Score]:
    """``{"rouge1": ..., "rouge2": ..., "rougeL": ...}`` of two texts, each a ``(precision, recall,
    fmeasure)`` triple, as ``RougeScorer(["rouge1", "rouge2", "rougeL"]).score(target, prediction)``."""
    ### BEGIN SOLUTION
    ref, pred = tokenize(target), tokenize(prediction)
    return {"rouge1": rouge_n(ref, pred, 1), "rouge2": rouge_n(ref, pred, 2), "rougeL": rouge_l(ref, pred)}
    ### END SOLUTION
