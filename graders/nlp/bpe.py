"""Hidden graders of nlp/bpe: train_bpe against a brute-force oracle (every word occurrence kept
separately, pair counts recomputed from scratch at every step) on random corpora; the counting,
merging and tie rules one by one on corpora built to separate right from wrong; stopping; encode
against an independent oracle that merges the lowest-ranked pair first (the GPT-2 / tokenizers
way, equivalent for learned merges); decode and the round trip.  tests/test_twins_nlp_bpe.py
shows the oracle and the reference agree with Hugging Face tokenizers' BpeTrainer and BPE model."""
import random

from mlkata.checks import Fail, check, visible_module

V = visible_module("nlp/bpe")
END = "</w>"


# --------------------------------------------------------------------------------------------
# The oracle
# --------------------------------------------------------------------------------------------

def initial(word):
    return list(word[:-1]) + [word[-1] + END]


def fuse(symbols, pair):
    """Every occurrence of ``pair``, scanning left to right, fused (no overlaps)."""
    out, i = [], 0
    while i < len(symbols):
        if i + 1 < len(symbols) and (symbols[i], symbols[i + 1]) == pair:
            out.append(pair[0] + pair[1])
            i += 2
        else:
            out.append(symbols[i])
            i += 1
    return out


def pair_counts(occurrences):
    counts = {}
    for sym in occurrences:
        for i in range(len(sym) - 1):
            counts[(sym[i], sym[i + 1])] = counts.get((sym[i], sym[i + 1]), 0) + 1
    return counts


def occurrences_of(corpus):
    return [initial(w) for text in corpus for w in text.split()]


def oracle_train(corpus, num_merges):
    """Brute force: one symbol list per word occurrence, counts recomputed at every step."""
    occ = occurrences_of(corpus)
    merges = []
    for _ in range(num_merges):
        counts = pair_counts(occ)
        if not counts:
            break
        top = max(counts.values())
        best = min(p for p, c in counts.items() if c == top)
        merges.append(best)
        occ = [fuse(s, best) for s in occ]
    return merges


def oracle_encode(text, merges):
    """Repeatedly fuse the adjacent pair of lowest rank in ``merges`` (GPT-2's ``bpe`` loop)."""
    rank = {}
    for r, m in enumerate(merges):
        rank.setdefault(tuple(m), r)
    out = []
    for word in text.split():
        sym = initial(word)
        while len(sym) > 1:
            ranked = [rank[p] for p in zip(sym, sym[1:]) if p in rank]
            if not ranked:
                break
            sym = fuse(sym, tuple(merges[min(ranked)]))
        out += sym
    return out


def diagnose(corpus, got, want):
    """Where the learner's merges leave the oracle's: replay them and show the counts there."""
    occ = occurrences_of(corpus)
    for i, (g, w) in enumerate(zip(got, want)):
        counts = pair_counts(occ)
        if g != w:
            seen = (f"count {counts[g]}" if g in counts else "not an adjacent pair of symbols at this point")
            return (f"merge {i} (after {i} matching merge{'s' if i != 1 else ''}): expected {w} (count {counts[w]}), "
                    f"your code produced {g} ({seen})")
        occ = [fuse(s, w) for s in occ]
    if len(got) != len(want):
        left = pair_counts(occ)
        return (f"the first {min(len(got), len(want))} merges agree, then: expected {len(want)} merges in all, your "
                f"code produced {len(got)}" + (f" (next expected {want[len(got)]}, count {left.get(want[len(got)])})"
                                              if len(got) < len(want) else " (no adjacent pair was left to merge)"))
    return ""


def expect_merges(corpus, got, want, rule, what):
    got = V.as_merges(got, what)
    if got != want:
        raise Fail(rule, f"{what}: " + diagnose(corpus, got, want))


def random_corpus(seed, n_types=14, alphabet="abcdefg", max_len=7, lines=4):
    """Random words with skewed (Zipf-like) counts, spread over a few texts with messy whitespace."""
    rng = random.Random(seed)
    types = sorted({"".join(rng.choice(alphabet) for _ in range(rng.randint(1, max_len))) for _ in range(n_types)})
    rng.shuffle(types)
    words = [w for r, w in enumerate(types) for _ in range(max(1, int(24 / (r + 1) * rng.uniform(0.5, 1.5))))]
    rng.shuffle(words)
    texts = [[] for _ in range(lines)]
    for w in words:
        texts[rng.randrange(lines)].append(w)
    return ["".join(w + rng.choice([" ", " ", "  ", "\t", "\n"]) for w in t) for t in texts]


# --------------------------------------------------------------------------------------------
# train_bpe
# --------------------------------------------------------------------------------------------

@check("train_bpe agrees with a brute-force BPE trainer on random corpora", points=2)
def train_random(run):
    for seed, n in ((1, 12), (2, 30), (3, 60), (4, 25), (5, 45)):
        corpus = random_corpus(seed, alphabet="abcdefg" if seed % 2 else "abcdxyz.,é")
        got = run(V.train, corpus, n)
        expect_merges(corpus, got["merges"], oracle_train(corpus, n),
                      "each merge is the pair with the largest count (count = sum over word occurrences of its "
                      "adjacent positions; ties: the smallest pair), merged everywhere before the next count",
                      f"train_bpe(random corpus {seed}, {n})")


@check("pair counts add up word frequencies across all the texts (and any whitespace separates words)")
def train_weighted(run):
    corpus = ["ab cd\tcd", "ef\n\ncd  ab", "ef ef ef ef", "gh"]
    got = run(V.train, corpus, 4)
    expect_merges(corpus, got["merges"], oracle_train(corpus, 4),
                  "a pair counts once per occurrence of each word, over all the texts together: 'ef' x5, 'cd' x3, "
                  "'ab' x2, 'gh' x1; split words with str.split() (tabs, newlines, repeated spaces)",
                  "train_bpe(['ab cd\\tcd', 'ef\\n\\ncd  ab', 'ef ef ef ef', 'gh'], 4)")


@check("a pair is counted at every position where it occurs in a word, overlaps included")
def train_overlapping_counts(run):
    for corpus, n in ((["aaab cd cd"], 1), (["xxxxy", "pq pq pq"], 2)):
        got = run(V.train, corpus, n)
        expect_merges(corpus, got["merges"], oracle_train(corpus, n),
                      "count every adjacent position: ('a', 'a', 'a', 'b</w>') holds ('a', 'a') twice, so with "
                      "('c', 'd</w>') at 2 the tie goes to ('a', 'a') -- not once per word, not only "
                      "non-overlapping occurrences", f"train_bpe({corpus}, {n})")


@check("a merge rewrites each word left to right, without overlaps, and only whole symbols")
def train_left_to_right(run):
    for corpus, n in ((["aaaa"], 3), (["aaaaab", "ab"], 4), (["a ab aab"], 3), (["abab bab"], 4)):
        got = run(V.train, corpus, n)
        expect_merges(corpus, got["merges"], oracle_train(corpus, n),
                      "merging ('a', 'a') turns ('a', 'a', 'a', 'a</w>') into ('aa', 'a', 'a</w>'): scan from the "
                      "left, jump past a fused pair, and match whole symbols ('a' 'a</w>' is not the pair "
                      "('a', 'a'), so joining with spaces and str.replace('a a', 'aa') is wrong)",
                      f"train_bpe({corpus}, {n})")


@check("ties are broken by the smallest pair in Python's tuple-of-strings order (many ties)")
def train_ties(run):
    for seed in (11, 12):
        rng = random.Random(seed)
        words = {"".join(rng.choice("aBz9é-q") for _ in range(rng.randint(2, 5))) for _ in range(10)}
        corpus = [" ".join(sorted(words, key=lambda w: rng.random()))]      # each word once: ties everywhere
        got = run(V.train, corpus, 15)
        expect_merges(corpus, got["merges"], oracle_train(corpus, 15),
                      "among pairs of equal count, the smallest (left, right) in Python's string order wins "
                      "(code points: '-' < '9' < 'B' < 'a' < 'é'), never the first one seen",
                      f"train_bpe(words seen once each, seed {seed}, 15)")


@check("training stops early once every word is one symbol; no merges for empty input or num_merges=0")
def train_stops(run):
    cases = [(["abc abc", "ab"], 100, "stop when no word has two symbols left"),
             (["a b c a"], 5, "one-character words are a single symbol already: nothing to merge"),
             ([], 5, "an empty corpus gives no merges"),
             (["   ", "\n\t"], 5, "a corpus of whitespace has no words, so no merges"),
             (["low lower"], 0, "num_merges=0 gives no merges")]
    for corpus, n, rule in cases:
        got = run(V.train, corpus, n)
        expect_merges(corpus, got["merges"], oracle_train(corpus, n), rule, f"train_bpe({corpus}, {n})")
    corpus = ["low lower", "newest"]
    got = run(V.train, corpus, 3)
    V.same(got["corpus_after"], ["low lower", "newest"], "train_bpe must not modify the corpus list",
                 what="the corpus after training")


# --------------------------------------------------------------------------------------------
# encode / decode
# --------------------------------------------------------------------------------------------

def random_text(seed, alphabet):
    rng = random.Random(seed)
    return "".join("".join(rng.choice(alphabet) for _ in range(rng.randint(1, 8))) + rng.choice([" ", "  ", "\t", "\n"])
                   for _ in range(12))


@check("encode agrees with an independent BPE encoder on random text, with merges learned from a corpus", points=2)
def encode_random(run):
    for seed in (21, 22, 23):
        corpus = random_corpus(seed)
        merges = oracle_train(corpus, 20 + 10 * (seed - 21))
        texts = [" ".join(corpus), random_text(seed, "abcdefg"), random_text(seed + 100, "abcdefgxy")]
        got = run(V.encode_many, texts, merges)
        for i, (t, g) in enumerate(zip(texts, got)):
            want = oracle_encode(t, merges)
            g = V.as_tokens(g, f"encode(text {i})")
            if g != want:
                words = t.split()
                bad = next((w for w in words if oracle_encode(w, merges) != [x for x in V.as_tokens(
                    run("encode", w, merges), "encode(word)")]), None)
                detail = (f"the word {bad!r}: expected {oracle_encode(bad, merges)}, your code produced "
                          f"{run('encode', bad, merges)}" if bad else f"expected {want}, produced {g}"[:500])
                raise Fail("encode splits the text into words and applies the learned merges to each word "
                           "(every merge in order, each everywhere in the word, left to right)",
                           f"encode(text {i}, {len(merges)} merges learned from random corpus {seed}): " + detail)


@check("encode applies merges in list order, at every occurrence, and only within a word")
def encode_rules(run):
    cases = [("abcd", [("b", "c"), ("a", "b")], ["a", "bc", "d</w>"],
              "merges apply in list order: ('b', 'c') comes first, after which ('a', 'b') no longer occurs"),
             ("ababx", [("a", "b")], ["ab", "ab", "x</w>"], "a merge applies to every occurrence in the word"),
             ("abab", [("a", "b")], ["ab", "a", "b</w>"], "'b</w>' is not 'b': the last character carries the marker"),
             ("ab ab", [("a", "b</w>")], ["ab</w>", "ab</w>"],
              "the marker is part of the last character's symbol ('b</w>'), never a symbol of its own"),
             ("aaab", [("a", "a"), ("a", "aa")], ["aa", "a", "b</w>"],
              "each merge scans left to right without overlaps: ('a', 'a') turns a a a into aa a, "
              "so ('a', 'aa') never occurs")]
    for text, merges, want, rule in cases:
        got = V.as_tokens(run("encode", text, merges), f"encode({text!r})")
        V.same(got, want, rule, what=f"encode({text!r}, {merges})")


@check("unseen characters stay single tokens; a one-letter word is one token; no words give []")
def encode_edges(run):
    merges = [("a", "b"), ("ab", "c</w>")]
    texts = ["abc", "xyz", "q", "abq b", "", "  \n\t ", "ab\u00e9c"]
    got = run(V.encode_many, texts, merges)
    for t, g in zip(texts, got):
        V.same(V.as_tokens(g, f"encode({t!r})"), oracle_encode(t, merges),
                     "every character is a symbol even if no merge knows it; the last one of a word carries '</w>'; "
                     "a text without words encodes to []", what=f"encode({t!r}, {merges})")


@check("decode(encode(text)) gives the text's words joined by single spaces")
def round_trip(run):
    corpus = random_corpus(31, alphabet="abcde")
    texts = [random_text(32, "abcdefé"), "  leading and trailing  ", "one", "\tx\n\ny  z ", ""]
    got = run(V.train_and_encode, corpus, 25, texts)
    for t, d in zip(texts, got["decoded"]):
        V.same(d, " ".join(t.split()), "decode(encode(text)) == ' '.join(text.split()): each '</w>' "
                     "becomes the space between words, with none after the last word", what=f"decode(encode({t!r}))")
    back = run(V.decode_many, [["a", "bc</w>"], ["x</w>", "y</w>", "zz", "z</w>"], ["ab", "c"]])
    V.same(back, ["abc", "x y zzz", "abc"], "decode joins the tokens and turns every '</w>' into a word "
           "break (no marker, no space)", what="decode of token lists")


@check("after training until nothing is left to merge, every training word encodes to one token")
def train_then_encode(run):
    corpus = ["low lower newest widest", "low low newest"]
    words = sorted(set(" ".join(corpus).split()))
    got = run(V.train_and_encode, corpus, 200, words)
    merges = V.as_merges(got["merges"], "train_bpe(corpus, 200)")
    expect_merges(corpus, merges, oracle_train(corpus, 200), "stop only when every word is a single symbol",
                  "train_bpe(corpus, 200)")
    for w, toks in zip(words, got["tokens"]):
        V.same(toks, [w + END], "with every merge learned, a training word is rebuilt into a single token "
                     "'word</w>' by encode", what=f"encode({w!r})")
