# BUG: encode fuses only the first occurrence of each merge's pair in a word
from collections import Counter

END_OF_WORD = "</w>"


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
    words = Counter(tuple(w[:-1]) + (w[-1] + END_OF_WORD,) for text in corpus for w in text.split())
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
        symbols = list(w[:-1]) + [w[-1] + END_OF_WORD]
        for a, b in merges:
            for i in range(len(symbols) - 1):
                if symbols[i] == a and symbols[i + 1] == b:
                    symbols[i:i + 2] = [a + b]
                    break
        tokens += symbols
    return tokens


def decode(tokens):
    return "".join(tokens).replace(END_OF_WORD, " ").rstrip(" ")
