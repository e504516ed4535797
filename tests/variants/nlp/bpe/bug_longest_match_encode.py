# BUG: encode does greedy longest-match against the learned vocabulary (WordPiece style) instead of
# replaying the merges, which can split a word differently
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
    vocab = {a + b for a, b in merges}
    tokens = []
    for w in text.split():
        rest = w + END_OF_WORD
        while rest:
            # the longest known token at the front, else one character (with the marker if last)
            n = next((k for k in range(len(rest), 0, -1) if rest[:k] in vocab), 1)
            if rest[n:] == END_OF_WORD:
                n = len(rest)
            tokens.append(rest[:n])
            rest = rest[n:]
    return tokens


def decode(tokens):
    return "".join(tokens).replace(END_OF_WORD, " ").rstrip(" ")
