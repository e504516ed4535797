# BUG: words kept as space-joined strings and merged with str.replace('a b', 'ab'), which also
# matches across symbol boundaries ('a b</w>', 'xa b')
from collections import Counter

END_OF_WORD = "</w>"


def train_bpe(corpus, num_merges):
    words = Counter(" ".join(list(w[:-1]) + [w[-1] + END_OF_WORD]) for text in corpus for w in text.split())
    merges = []
    for _ in range(num_merges):
        pairs = Counter()
        for word, n in words.items():
            symbols = word.split(" ")
            for pair in zip(symbols, symbols[1:]):
                pairs[pair] += n
        if not pairs:
            break
        best = min(pairs, key=lambda p: (-pairs[p], p))
        merges.append(best)
        a, b = best
        new = Counter()
        for word, n in words.items():
            new[word.replace(f"{a} {b}", a + b)] += n
        words = new
    return merges


def encode(text, merges):
    tokens = []
    for w in text.split():
        word = " ".join(list(w[:-1]) + [w[-1] + END_OF_WORD])
        for a, b in merges:
            word = word.replace(f"{a} {b}", a + b)
        tokens += word.split(" ")
    return tokens


def decode(tokens):
    return "".join(tokens).replace(END_OF_WORD, " ").rstrip(" ")
