"""Byte-pair encoding (BPE): learn a subword vocabulary by merging the most frequent pair.

A word-level vocabulary cannot name a word it has never seen; a character-level one makes every
sequence long.  BPE (Sennrich, Haddow and Birch, 2016, "Neural Machine Translation of Rare Words
with Subword Units", after Gage's 1994 compression algorithm) sits between the two.  Start with
every word spelled out in characters, then repeat: count every pair of adjacent symbols over the
corpus, and *merge* the most frequent pair into one new symbol.  The ordered list of merges is
the tokenizer: frequent words end up as one token, rare words as a few familiar pieces
("lowest" -> "low" + "est</w>"), and any word can still be spelled.

The conventions here are those of subword-nmt's ``learn_bpe.py`` and of Hugging Face
``tokenizers``' ``BpeTrainer(end_of_word_suffix="</w>")`` with a whitespace pre-tokenizer:

* words are the pieces of ``str.split()``; BPE never merges across two words;
* a word starts as its characters, the **last one carrying the end-of-word marker** ``"</w>"``:
  ``"low"`` -> ``("l", "o", "w</w>")``.  The marker lets "est" at the end of a word ("est</w>")
  become a different token from "est" inside one, and lets ``decode`` find word boundaries;
* the count of a pair adds up, over every occurrence of every word, the positions where the two
  symbols stand side by side (``"aaab"`` holds ``("a", "a")`` twice);
* merging a pair rewrites every word from left to right: ``("a", "a", "a", "b</w>")`` becomes
  ``("aa", "a", "b</w>")``.

Ties need a rule to make training deterministic.  Here the pair that compares smallest as a
Python tuple of strings wins: ``("e", "s")`` before ``("s", "t</w>")``.  (``tokenizers`` breaks
ties by comparing symbol ids instead, which agrees for single characters but not for merged
symbols.)

Write it in plain Python (no tokenizer library).  GPT-2 and most modern LLMs run the same
algorithm on the bytes of UTF-8 text instead of on characters.
"""
from collections import Counter

END_OF_WORD = "</w>"

Merge = tuple[str, str]


def _word_symbols(word: str) -> tuple[str, ...]:
    """Helper (optional -- only train_bpe, encode and decode are graded): the initial symbols of
    a word, its characters with the marker on the last one: ``"low"`` -> ``("l", "o", "w</w>")``."""
    ### BEGIN SOLUTION
    return tuple(word[:-1]) + (word[-1] + END_OF_WORD,)
    ### END SOLUTION


def _merge_pair(symbols: tuple[str, ...], pair: Merge) -> tuple[str, ...]:
    """Helper (optional): ``symbols`` with every occurrence of ``pair``, scanning left to right,
    fused into one symbol: ``(("a", "a", "a", "b</w>"), ("a", "a"))`` -> ``("aa", "a", "b</w>")``."""
    ### BEGIN SOLUTION
    a, b = pair
    out, i = [], 0
    while i < len(symbols):
        if i + 1 < len(symbols) and symbols[i] == a and symbols[i + 1] == b:
            out.append(a + b)                      # a fused pair is not looked at again
            i += 2
        else:
            out.append(symbols[i])
            i += 1
    return tuple(out)
    ### END SOLUTION


def train_bpe(corpus: list[str], num_merges: int) -> list[Merge]:
    """Learn up to ``num_merges`` merges from ``corpus``.

    Args:
        corpus: a list of texts; each is split into words with ``str.split()`` (any whitespace),
            and a word's count is its number of occurrences in all the texts together.  Texts
            do not contain the marker ``"</w>"``.  The list is not modified.
        num_merges: the most merges to learn (an int >= 0).

    Every word starts as its characters with ``"</w>"`` appended to the last one.  Each step
    counts every adjacent pair of symbols -- the pair's count is the sum, over the distinct
    words, of the word's count times the number of positions where the pair occurs in its
    current symbols -- picks the pair with the largest count (ties: the smallest pair in Python's
    tuple-of-strings order), records it, and merges it in every word, left to right, without
    overlaps.  Training stops after ``num_merges`` merges, or earlier once every word is a single
    symbol.

    Returns:
        the merges in the order they were learned, each a tuple ``(left, right)`` of strings
        (the new symbol is ``left + right``).  An empty corpus gives ``[]``.
    """
    ### BEGIN SOLUTION
    words = Counter(_word_symbols(w) for text in corpus for w in text.split())   # symbols -> count
    merges = []
    for _ in range(num_merges):
        pairs = Counter()
        for symbols, count in words.items():
            for pair in zip(symbols, symbols[1:]):
                pairs[pair] += count
        if not pairs:                                # every word is one symbol: nothing to merge
            break
        best = min(pairs, key=lambda p: (-pairs[p], p))      # most frequent, then smallest pair
        merges.append(best)
        words = Counter({_merge_pair(symbols, best): count for symbols, count in words.items()})
    return merges
    ### END SOLUTION


def encode(text: str, merges: list[Merge]) -> list[str]:
    """Split ``text`` into BPE tokens with the learned ``merges``.

    Args:
        text: any string without ``"</w>"``; words are the pieces of ``text.split()``.
        merges: a list of ``(left, right)`` pairs in priority order, as ``train_bpe`` returns.

    Each word starts as its characters with ``"</w>"`` on the last one; then every merge, in
    list order, is applied to it as in training (every occurrence, left to right, no overlaps).
    Characters never seen in training simply stay single-character tokens.

    Returns:
        the tokens of all the words, in order, as a flat list of strings (``[]`` for a text
        without words).  E.g. with the 13 merges learned from Sennrich et al.'s example corpus
        ("low" x5, "lower" x2, "newest" x6, "widest" x3), "lowest" becomes ``["low", "est</w>"]``.
    """
    ### BEGIN SOLUTION
    tokens = []
    for word in text.split():
        symbols = _word_symbols(word)
        for pair in merges:
            if len(symbols) == 1:
                break
            symbols = _merge_pair(symbols, pair)
        tokens.extend(symbols)
    return tokens
    ### END SOLUTION


def decode(tokens: list[str]) -> str:
    """Turn tokens back into text: concatenate them, each ``"</w>"`` ending a word.

    Words are joined with single spaces (no space after the last one), so
    ``decode(encode(text, merges)) == " ".join(text.split())`` for any merges.  ``[]`` gives ``""``.
    """
    ### BEGIN SOLUTION
    return "".join(tokens).replace(END_OF_WORD, " ").rstrip(" ")
    ### END SOLUTION
