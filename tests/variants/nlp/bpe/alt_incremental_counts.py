# CORRECT, written differently: pair counts are kept up to date incrementally -- after each merge only
# the words that contained the pair are re-counted -- with words stored as lists in an indexed table.
from collections import Counter, defaultdict

END_OF_WORD = "</w>"


def _pairs(symbols):
    return Counter(zip(symbols, symbols[1:]))


def train_bpe(corpus, num_merges):
    counts = Counter(w for text in corpus for w in text.split())
    words = [list(w[:-1]) + [w[-1] + END_OF_WORD] for w in counts]
    freqs = [counts[w] for w in counts]
    stats = Counter()
    where = defaultdict(set)                 # pair -> indices of the words holding it
    for i, sym in enumerate(words):
        for pair, k in _pairs(sym).items():
            stats[pair] += k * freqs[i]
            where[pair].add(i)
    merges = []
    while len(merges) < num_merges:
        live = {p: c for p, c in stats.items() if c > 0}
        if not live:
            break
        best = min(live, key=lambda p: (-live[p], p))
        merges.append(best)
        for i in sorted(where.pop(best, ())):
            old = _pairs(words[i])
            words[i] = _fuse_list(words[i], *best)
            new = _pairs(words[i])
            for pair, k in (new - old).items():
                stats[pair] += k * freqs[i]
                where[pair].add(i)
            for pair, k in (old - new).items():
                stats[pair] -= k * freqs[i]
    return merges


def _fuse_list(symbols, a, b):
    out, i = [], 0
    while i < len(symbols):
        if i + 1 < len(symbols) and symbols[i] == a and symbols[i + 1] == b:
            out.append(a + b)
            i += 2
        else:
            out.append(symbols[i])
            i += 1
    return out


def encode(text, merges):
    tokens = []
    for w in text.split():
        symbols = list(w[:-1]) + [w[-1] + END_OF_WORD]
        for a, b in merges:
            symbols = _fuse_list(symbols, a, b)
        tokens.extend(symbols)
    return tokens


def decode(tokens):
    text = ""
    for t in tokens:
        text += t[:-len(END_OF_WORD)] + " " if t.endswith(END_OF_WORD) else t
    return text[:-1] if text.endswith(" ") else text
