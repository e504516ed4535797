"""Visible checks: BPE training, encoding and decoding on corpora small enough to count by hand."""
from mlkata.checks import Fail, check, probe

# Sennrich et al.'s example: "low" x5, "lower" x2, "newest" x6, "widest" x3
SENNRICH = ["low low low low low lower lower", "newest newest newest newest newest newest",
            "widest widest widest"]


@probe
def train(sub, corpus, num_merges):
    """Call ``train_bpe``; report the merges and the corpus afterwards."""
    merges = sub.train_bpe(corpus, num_merges)
    return {"merges": merges, "corpus_after": corpus}


@probe
def encode_many(sub, texts, merges):
    return [sub.encode(t, merges) for t in texts]


@probe
def decode_many(sub, token_lists):
    return [sub.decode(t) for t in token_lists]


@probe
def train_and_encode(sub, corpus, num_merges, texts):
    """Train, then encode each text with the merges learned and decode it back."""
    merges = sub.train_bpe(corpus, num_merges)
    tokens = [sub.encode(t, merges) for t in texts]
    return {"merges": merges, "tokens": tokens, "decoded": [sub.decode(t) for t in tokens]}


def as_merges(got, what):
    """The merges a probe reported, as a list of (str, str) tuples (lists accepted)."""
    rule = "train_bpe returns a list of merges, each a pair (left, right) of strings"
    if not isinstance(got, (list, tuple)):
        raise Fail(rule, f"{what}: expected a list, your code returned {type(got).__name__}")
    out = []
    for i, m in enumerate(got):
        if not (isinstance(m, (list, tuple)) and len(m) == 2 and all(isinstance(s, str) for s in m)):
            raise Fail(rule, f"{what}: merge {i} is {m!r}, not a pair of strings")
        out.append((m[0], m[1]))
    return out


def same(got, want, rule, what):
    """Exact equality of merges, tokens or strings, showing both values in full."""
    if got != want:
        raise Fail(rule, f"{what}:\n  expected {want!r}\n  produced {got!r}"[:1500])


def as_tokens(got, what, rule="encode returns a flat list of token strings"):
    if not (isinstance(got, (list, tuple)) and all(isinstance(t, str) for t in got)):
        raise Fail(rule, f"{what}: expected a list of strings, your code returned {got!r}"[:400])
    return list(got)


@check("the first merge is the most frequent adjacent pair, counted with each word's frequency")
def first_merge_weighted(run):
    got = as_merges(run(train, ["ab ab ab cd", "cd"], 1)["merges"], "train_bpe(['ab ab ab cd', 'cd'], 1)")
    same(got, [("a", "b</w>")],
                 "'ab' occurs 3 times and 'cd' twice, so the pair ('a', 'b</w>') is counted 3 times and wins; "
                 "the last character of a word carries the end-of-word marker '</w>'",
                 what="merges of train_bpe(['ab ab ab cd', 'cd'], 1)")


@check("Sennrich et al.'s example corpus gives the merges of the paper's walk-through")
def sennrich_example(run):
    got = as_merges(run(train, SENNRICH, 4)["merges"], "train_bpe(Sennrich corpus, 4)")
    same(got, [("e", "s"), ("es", "t</w>"), ("l", "o"), ("e", "w")],
                 "count pairs over all word occurrences (newest x6 + widest x3 give ('e', 's') 9) and break ties by "
                 "the smallest pair: ('e', 's') before ('s', 't</w>') at 9, later ('e', 'w') before ('n', 'e') and "
                 "('w', 'est</w>') at 6",
                 what="the first 4 merges")


@check("ties go to the smallest pair in Python's tuple order")
def ties_smallest_pair(run):
    got = as_merges(run(train, ["zy ba xw"], 3)["merges"], "train_bpe(['zy ba xw'], 3)")
    same(got, [("b", "a</w>"), ("x", "w</w>"), ("z", "y</w>")],
                 "every pair occurs once, so the order of the merges is decided by comparing the pairs: "
                 "('b', 'a</w>') < ('x', 'w</w>') < ('z', 'y</w>')", what="merges of train_bpe(['zy ba xw'], 3)")


@check("encode applies the merges to each word in list order; decode undoes it")
def encode_decode(run):
    merges = [("e", "s"), ("es", "t</w>"), ("l", "o"), ("lo", "w")]
    got = run(encode_many, ["lowest", "low  slow"], merges)
    same(as_tokens(got[0], "encode('lowest')"), ["low", "est</w>"],
                 "apply every merge in order: e s -> es, es t</w> -> est</w>, l o -> lo, lo w -> low",
                 what="encode('lowest', merges)")
    same(as_tokens(got[1], "encode('low  slow')"), ["lo", "w</w>", "s", "lo", "w</w>"],
                 "each word is encoded on its own; ('lo', 'w') does not match 'lo' + 'w</w>'",
                 what="encode('low  slow', merges)")
    back = run(decode_many, [["low", "est</w>", "s", "lo", "w</w>"], []])
    same(back, ["lowest slow", ""], "decode concatenates the tokens; each '</w>' ends a word, and "
                 "words are joined by single spaces", what="decode(['low', 'est</w>', 's', 'lo', 'w</w>']), decode([])")
