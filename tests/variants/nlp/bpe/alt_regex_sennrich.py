# CORRECT, written differently: subword-nmt style -- words as space-separated strings merged with a
# regex that only matches whole symbols, counts from a fresh scan; encode by GPT-2's loop that
# fuses the lowest-ranked adjacent pair until none is left; decode by splitting on the marker.
import re
from collections import defaultdict

END_OF_WORD = "</w>"


def _spell(word):
    return " ".join(list(word[:-1]) + [word[-1] + END_OF_WORD])


def train_bpe(corpus, num_merges):
    vocab = defaultdict(int)
    for text in corpus:
        for word in text.split():
            vocab[_spell(word)] += 1
    merges = []
    while len(merges) < num_merges:
        stats = defaultdict(int)
        for spelled, freq in vocab.items():
            symbols = spelled.split(" ")
            for i in range(len(symbols) - 1):
                stats[symbols[i], symbols[i + 1]] += freq
        if not stats:
            break
        top = max(stats.values())
        best = sorted(p for p in stats if stats[p] == top)[0]
        merges.append(best)
        # (?<!\S) and (?!\S): the pair must be two whole symbols
        pattern = re.compile(r"(?<!\S)" + re.escape(best[0] + " " + best[1]) + r"(?!\S)")
        vocab = {pattern.sub(best[0] + best[1], spelled): freq for spelled, freq in vocab.items()}
    return merges


def encode(text, merges):
    ranks = {}
    for r, (a, b) in enumerate(merges):
        ranks.setdefault((a, b), r)
    out = []
    for word in text.split():
        symbols = _spell(word).split(" ")
        while len(symbols) > 1:
            candidates = [(ranks[p], p) for p in zip(symbols, symbols[1:]) if p in ranks]
            if not candidates:
                break
            _, (a, b) = min(candidates)
            fused, i = [], 0
            while i < len(symbols):
                if i < len(symbols) - 1 and symbols[i] == a and symbols[i + 1] == b:
                    fused.append(a + b)
                    i += 2
                else:
                    fused.append(symbols[i])
                    i += 1
            symbols = fused
        out.extend(symbols)
    return out


def decode(tokens):
    words = "".join(tokens).split(END_OF_WORD)
    return " ".join(w for w in words if w)
