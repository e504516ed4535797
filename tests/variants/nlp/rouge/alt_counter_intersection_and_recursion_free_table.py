# CORRECT, written differently: overlap as the size of a Counter intersection, the LCS with a full 2-D table, tokens by re.findall.
import re
from collections import Counter


def tokenize(text):
    return re.findall(r"[a-z0-9]+", text.lower())


def fmeasure(precision, recall):
    if precision == 0 and recall == 0:
        return 0.0
    return 1 / (0.5 / precision + 0.5 / recall) if precision and recall else 0.0


def rouge_n(target, prediction, n):
    t = Counter(zip(*[target[i:] for i in range(n)]))
    p = Counter(zip(*[prediction[i:] for i in range(n)]))
    hits = sum((t & p).values())
    precision = hits / (sum(p.values()) or 1)
    recall = hits / (sum(t.values()) or 1)
    return precision, recall, fmeasure(precision, recall)


def lcs_length(a, b):
    table = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) - 1, -1, -1):
        for j in range(len(b) - 1, -1, -1):
            table[i][j] = table[i + 1][j + 1] + 1 if a[i] == b[j] else max(table[i + 1][j], table[i][j + 1])
    return table[0][0]


def rouge_l(target, prediction):
    if len(target) == 0 or len(prediction) == 0:
        return 0.0, 0.0, 0.0
    k = lcs_length(target, prediction)
    return k / len(prediction), k / len(target), fmeasure(k / len(prediction), k / len(target))


def rouge_scores(target, prediction):
    t, p = tokenize(target), tokenize(prediction)
    return dict(rouge1=rouge_n(t, p, 1), rouge2=rouge_n(t, p, 2), rougeL=rouge_l(t, p))
