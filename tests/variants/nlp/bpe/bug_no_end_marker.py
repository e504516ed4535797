# BUG: plain characters without the end-of-word marker; decode can no longer find word breaks
from collections import Counter


def _merge(symbols, pair):
    out, i = [], 0
    while i < len(symbols):
        if i + 1 < len(symbols) and (symbols[i], symbols[i + 1]) == pair:
            out.append(symbols[i] + symbols[i + 1])
            i += 2
        else:
            out.append(symbols[i])
            i += 1
    return tuple(out)


def train_bpe(corpus, num_merges):
    words = Counter(tuple(w) for text in corpus for w in text.split())
    merges = []
    for _ in range(num_merges):
        pairs = Counter()
        for symbols, n in words.items():
            for pair in zip(symbols, symbols[1:]):
                pairs[pair] += n
        if not pairs:
            break
        best = min(pairs, key=lambda p: (-pairs[p], p))
        merges.append(best)
        words = Counter({_merge(s, best): n for s, n in words.items()})
    return merges


def encode(text, merges):
    tokens = []
    for w in text.split():
        symbols = tuple(w)
        for pair in merges:
            symbols = _merge(symbols, tuple(pair))
        tokens += symbols
    return tokens


def decode(tokens):
    return "".join(tokens)
