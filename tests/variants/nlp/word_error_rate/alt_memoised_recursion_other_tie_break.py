# CORRECT, written differently: a memoised recursion over suffixes, returning counts directly, preferring deletions and insertions over substitutions on ties.
from functools import lru_cache


def _best(reference, hypothesis):
    ref, hyp = tuple(reference), tuple(hypothesis)

    @lru_cache(maxsize=None)
    def go(i, j):          # (cost, H, S, D, I) of the suffixes ref[i:], hyp[j:]
        if i == len(ref):
            return (len(hyp) - j, 0, 0, 0, len(hyp) - j)
        if j == len(hyp):
            return (len(ref) - i, 0, 0, len(ref) - i, 0)
        c, h, s, d, n = go(i + 1, j)
        options = [(c + 1, h, s, d + 1, n)]
        c, h, s, d, n = go(i, j + 1)
        options.append((c + 1, h, s, d, n + 1))
        c, h, s, d, n = go(i + 1, j + 1)
        same = ref[i] == hyp[j]
        options.append((c + (not same), h + same, s + (not same), d, n))
        return min(options, key=lambda o: o[0])       # first minimum: deletion, then insertion, then diagonal

    import sys
    sys.setrecursionlimit(max(10_000, 4 * (len(ref) + len(hyp))))
    return go(0, 0)


def edit_distance(reference, hypothesis):
    return _best(reference, hypothesis)[0]


def error_counts(reference, hypothesis):
    _, h, s, d, i = _best(reference, hypothesis)
    return {"hits": h, "substitutions": s, "deletions": d, "insertions": i}


def word_error_rate(references, hypotheses):
    pairs = [(r.split(), h.split()) for r, h in zip(references, hypotheses)]
    return sum(edit_distance(r, h) for r, h in pairs) / sum(map(len, (r for r, _ in pairs)))


def char_error_rate(references, hypotheses):
    pairs = [(r.strip(), h.strip()) for r, h in zip(references, hypotheses)]
    return sum(edit_distance(r, h) for r, h in pairs) / sum(len(r) for r, _ in pairs)
