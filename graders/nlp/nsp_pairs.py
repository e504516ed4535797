"""Hidden graders of nlp/nsp_pairs: BERT's truncation and pair layout checked exactly against the
contract on random inputs (the same rule as transformers' Python BERT tokenizer with
truncation="longest_first" -- tests/test_twins_nlp_nsp_pairs.py shows they agree), and the
pairing checked exactly (order, true next sentences, negatives from other documents) and
statistically (rates over ~3,600 examples, with bounds a correct implementation misses less than
once in 10^6 runs)."""
import weakref

import torch

from mlkata.checks import Fail, check, expect, expect_rate, visible_module

V = visible_module("nlp/nsp_pairs")
CLS, SEP = V.CLS, V.SEP


# --------------------------------------------------------------------------------------------
# The oracle: the contract written out
# --------------------------------------------------------------------------------------------

def oracle_truncate(a, b, m):
    a, b = list(a), list(b)
    while len(a) + len(b) > m:
        (a if len(a) > len(b) else b).pop()
    return a, b


def oracle_pair(a, b, cls_id, sep_id, max_len):
    a, b = oracle_truncate(a, b, max_len - 3)
    return [cls_id] + a + [sep_id] + b + [sep_id], [0] * (len(a) + 2) + [1] * (len(b) + 1)


def rand_tokens(g, lo, hi):
    n = int(torch.randint(lo, hi + 1, (), generator=g))
    return torch.randint(5, 1000, (n,), generator=g).tolist()


# --------------------------------------------------------------------------------------------
# Corpora in which every token occurs once (1000, 1001, ...), so any token names its sentence
# --------------------------------------------------------------------------------------------

def corpus(seed, sizes, max_words=8):
    g = torch.Generator().manual_seed(seed)
    docs, uid = [], 1000
    for n in sizes:
        doc = []
        for _ in range(n):
            k = int(torch.randint(1, max_words + 1, (), generator=g))
            doc.append(list(range(uid, uid + k)))
            uid += k
        docs.append(doc)
    return docs


def where_is(docs):
    """token -> (document, sentence index)"""
    return {t: (d, j) for d, doc in enumerate(docs) for j, s in enumerate(doc) for t in s}


def show(x, limit=400):
    text = repr(x)
    return text if len(text) <= limit else text[:limit] + " ..."


# 30 documents of 2 sentences, 30 of 120, 5 of 1 (interleaved): 3,600 consecutive pairs.
BIG_SIZES = [2, 120, 2, 120, 1] * 5 + [2, 120] * 20
BIG = corpus(0, BIG_SIZES)
BIG_MAX_LEN = 12                        # A + B up to 16 tokens: many examples are truncated
SHORT = {d for d, n in enumerate(BIG_SIZES) if n == 2}
LONG = {d for d, n in enumerate(BIG_SIZES) if n == 120}

_REPLIES = weakref.WeakKeyDictionary()  # run -> {seed: (rows, identified)}: one grading's big call

PAIR_RULE = ("every example is [CLS] A [SEP] B [SEP]: A a sentence, B the next sentence of its document "
             "(is_next = 1) or a sentence of another document (is_next = 0)")


def identify(rows, docs, cls_id=CLS, sep_id=SEP):
    """[(ad, ai, label, (bd, bj))]: which sentences each example holds, read from its tokens alone
    (so a layout or truncation mistake does not hide what the pairing did)."""
    loc = where_is(docs)
    out = []
    for k, (ids, types, label) in enumerate(rows):
        seps = [p for p, t in enumerate(ids) if t == sep_id]
        a_tok = [loc[t] for t in ids[:seps[0]] if t in loc] if seps else []
        b_tok = [loc[t] for t in ids[seps[0] + 1:] if t in loc] if seps else []
        if not a_tok or not b_tok or len(set(a_tok)) > 1 or len(set(b_tok)) > 1:
            raise Fail(PAIR_RULE, f"example {k} (is_next = {label}): could not find one sentence before the "
                                  f"first [SEP] = {sep_id} and one after it in input_ids {show(ids)}")
        out.append((*a_tok[0], label, b_tok[0]))
    return out


def expect_structure(rows, found, docs, max_len, cls_id=CLS, sep_id=SEP):
    """Example k is build_pair(A, B) for the k-th consecutive pair, exactly."""
    rule = ("example k is build_pair(A, B, cls_id, sep_id, max_len) for the k-th consecutive pair (A = "
            "documents[d][i], documents first, then sentences)")
    pairs = [(d, i) for d, doc in enumerate(docs) for i in range(len(doc) - 1)]
    if len(rows) != len(pairs):
        raise Fail(rule, f"expected {len(pairs)} examples (one per pair of consecutive sentences), your code "
                         f"returned {len(rows)}")
    for k, ((d, i), (ids, types, label), (ad, ai, _, (bd, bj))) in enumerate(zip(pairs, rows, found)):
        here = f"example {k} (is_next = {label})"
        if (ad, ai) != (d, i):
            raise Fail(rule, f"{here}: A should be sentence {i} of document {d}, but it is sentence {ai} of "
                             f"document {ad}")
        want = oracle_pair(docs[d][i], docs[bd][bj], cls_id, sep_id, max_len)
        if (ids, types) != want:
            raise Fail(rule, f"{here}: A = sentence {i} of document {d} = {docs[d][i]}, B = sentence {bj} of "
                             f"document {bd} = {docs[bd][bj]}, max_len = {max_len}:\n"
                             f"  expected input_ids {want[0]}, token_type_ids {want[1]}\n"
                             f"  produced input_ids {ids}, token_type_ids {types}")


def big(run, seed=11):
    """(rows, identified) of make_nsp_examples on BIG, called once per grading."""
    replies = _REPLIES.setdefault(run, {})
    if seed not in replies:          # the raw reply is kept, so a malformed one is not asked for again
        replies[seed] = run(V.examples, BIG, CLS, SEP, BIG_MAX_LEN, seed=seed, report_documents=False)
    rows = V.read_examples(replies[seed])
    return rows, identify(rows, BIG)


def pairs_of(run):
    return big(run)[1]


# --------------------------------------------------------------------------------------------
# truncate_seq_pair and build_pair
# --------------------------------------------------------------------------------------------

TRUNC_RULE = ("while len(a) + len(b) > max_num_tokens, remove the LAST token of the longer list (of b when both "
              "are equally long), one token at a time")


@check("truncate_seq_pair agrees with BERT's truncate_seq_pair on 300 random pairs", points=2)
def truncate_random(run):
    g = torch.Generator().manual_seed(1)
    cases = []
    for _ in range(300):
        a, b = rand_tokens(g, 0, 14), rand_tokens(g, 0, 14)
        cases.append((a, b, int(torch.randint(0, 30, (), generator=g))))
    for (a, b, m), got in zip(cases, run(V.call_many, "truncate_seq_pair", cases)):
        ga, gb = V.int_pair(got["out"], TRUNC_RULE, f"truncate_seq_pair(len {len(a)}, len {len(b)}, {m})")
        wa, wb = oracle_truncate(a, b, m)
        if (ga, gb) != (wa, wb):
            raise Fail(TRUNC_RULE, f"truncate_seq_pair(a of {len(a)} tokens, b of {len(b)} tokens, "
                                   f"max_num_tokens={m}):\n  a = {a}\n  b = {b}\n"
                                   f"  expected lengths ({len(wa)}, {len(wb)}): {wa}, {wb}\n"
                                   f"  produced lengths ({len(ga)}, {len(gb)}): {ga}, {gb}")


@check("truncate_seq_pair edge cases: a pair that fits, an empty side, max_num_tokens = 0, odd leftovers on ties")
def truncate_edges(run):
    cases = [([5, 6, 7], [8, 9], 5), ([5, 6, 7], [8, 9], 9), ([], [5, 6, 7, 8], 2), ([5, 6, 7, 8], [], 1),
             ([5, 6], [7, 8], 0), ([5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18], list(range(20, 35)), 11),
             ([5, 6, 7, 8, 9, 10], [11, 12, 13, 14, 15, 16], 7), ([5] * 9, [6, 7], 3)]
    for (a, b, m), got in zip(cases, run(V.call_many, "truncate_seq_pair", cases)):
        V.expect_same(V.int_pair(got["out"], TRUNC_RULE, "truncate_seq_pair"), oracle_truncate(a, b, m),
                     TRUNC_RULE, what=f"truncate_seq_pair({a}, {b}, {m})")


@check("build_pair agrees with BERT's layout on 300 random pairs (any [CLS]/[SEP] ids, truncated or not)", points=2)
def build_pair_random(run):
    g = torch.Generator().manual_seed(2)
    cases = []
    for k in range(300):
        cls_id, sep_id = [(CLS, SEP), (101, 102), (0, 1)][k % 3]
        cases.append((rand_tokens(g, 1, 20), rand_tokens(g, 1, 20), cls_id, sep_id,
                      int(torch.randint(5, 45, (), generator=g))))
    rule = ("input_ids = [CLS] + a + [SEP] + b + [SEP] with (a, b) = truncate_seq_pair(A, B, max_len - 3); "
            "token_type_ids: len(a) + 2 zeros, then len(b) + 1 ones")
    for (a, b, c, s, m), got in zip(cases, run(V.call_many, "build_pair", cases)):
        ids, types = V.int_pair(got["out"], rule, "build_pair")
        want_ids, want_types = oracle_pair(a, b, c, s, m)
        if (ids, types) != (want_ids, want_types):
            raise Fail(rule, f"build_pair(A, B, cls_id={c}, sep_id={s}, max_len={m}) with\n  A = {a}\n  B = {b}\n"
                             f"  expected input_ids      {want_ids}\n  produced input_ids      {ids}\n"
                             f"  expected token_type_ids {want_types}\n  produced token_type_ids {types}")


@check("truncate_seq_pair and build_pair leave the lists they are given unchanged")
def inputs_unchanged(run):
    a, b = [5, 6, 7, 8, 9, 10, 11], [12, 13, 14, 15, 16, 17]
    for fn, args, want in (("truncate_seq_pair", (a, b, 4), oracle_truncate(a, b, 4)),
                           ("build_pair", (a, b, CLS, SEP, 8), oracle_pair(a, b, CLS, SEP, 8))):
        got = run(V.call_many, fn, [args])[0]
        V.expect_same(V.int_pair(got["out"], f"{fn} returns a pair of lists of ints", fn), tuple(want),
                      TRUNC_RULE if fn == "truncate_seq_pair" else PAIR_RULE, what=f"{fn}{args}")
        after = got["args_after"]
        rule = f"{fn} must not modify its arguments: truncate copies (list(tokens)), never the caller's lists"
        V.expect_same(after[0], a, rule, what=f"tokens_a after {fn}")
        V.expect_same(after[1], b, rule, what=f"tokens_b after {fn}")


# --------------------------------------------------------------------------------------------
# make_nsp_examples: structure
# --------------------------------------------------------------------------------------------

@check("make_nsp_examples: every example is build_pair(A, B) for the right consecutive pair, in order "
       "(3,600 examples, many truncated)", points=2)
def examples_structure(run):
    rows, found = big(run)
    expect_structure(rows, found, BIG, BIG_MAX_LEN)


@check("an IsNext example (is_next = 1) holds the true next sentence of the same document", points=2)
def positives_true_next(run):
    rule = "is_next = 1 exactly when B is documents[d][i + 1], the sentence that really follows A"
    for d, i, label, (bd, bj) in pairs_of(run):
        if label == 1 and (bd, bj) != (d, i + 1):
            raise Fail(rule, f"an example with A = sentence {i} of document {d} has is_next = 1 but B is sentence "
                             f"{bj} of document {bd} (the true next sentence is sentence {i + 1} of document {d})")


@check("a NotNext example (is_next = 0) always takes B from a different document", points=2)
def negatives_other_document(run):
    rule = ("is_next = 0: B is a random sentence of ANOTHER document (never the same one, which could even give "
            "the true next sentence)")
    found = pairs_of(run)
    same = [(d, i, bj) for d, i, label, (bd, bj) in found if label == 0 and bd == d]
    if same:
        d, i, bj = same[0]
        raise Fail(rule, f"{len(same)} of {sum(1 for r in found if r[2] == 0)} NotNext examples take B from A's own "
                         f"document; the first: A = sentence {i} of document {d}, B = sentence {bj} of document {d}")


# --------------------------------------------------------------------------------------------
# make_nsp_examples: statistics
# --------------------------------------------------------------------------------------------

@check("B is the true next sentence with probability 0.5 (rate over 3,600 examples)", points=2)
def negative_rate(run):
    found = pairs_of(run)
    expect_rate(sum(1 for r in found if r[2] == 0), len(found), 0.5,
                "each example is NotNext (random B, is_next = 0) with probability 0.5",
                what="share of examples with is_next = 0")


def _negatives(run):
    rows = [r for r in pairs_of(run) if r[2] == 0 and r[3][0] != r[0]]
    expect(len(rows) > 0, "about half of the examples are NotNext, with B from another document",
           "there is no example with is_next = 0 and B from another document")
    return rows


@check("a NotNext document is uniform over the other documents, whatever their lengths")
def other_document_uniform(run):
    rows = _negatives(run)
    n_docs = len(BIG)
    p = sum(len(SHORT - {d}) for d, *_ in rows) / (len(rows) * (n_docs - 1))
    hits = sum(1 for *_, (bd, _) in rows if bd in SHORT)
    expect_rate(hits, len(rows), p,
                "first choose a document uniformly among the other len(documents) - 1 (each equally likely, "
                "however many sentences it has), then a sentence in it -- not a sentence uniformly from the corpus",
                what=f"share of NotNext sentences taken from the {len(SHORT)} two-sentence documents "
                     f"(of {n_docs - 1} other documents)")


@check("a NotNext sentence is uniform within its document, first and last sentences included")
def sentence_uniform(run):
    rows = _negatives(run)
    rule = "the sentence is chosen uniformly among all sentences of the chosen document (index 0 to len - 1)"
    short = [bj for *_, (bd, bj) in rows if bd in SHORT]
    expect(len(short) > 0, rule, "no NotNext sentence came from a two-sentence document")
    expect_rate(sum(1 for bj in short if bj == 1), len(short), 0.5, rule,
                what="share of the last sentence among NotNext sentences from two-sentence documents")
    long = [bj for *_, (bd, bj) in rows if bd in LONG]
    expect(len(long) > 0, rule, "no NotNext sentence came from a 120-sentence document")
    expect_rate(sum(1 for bj in long if bj >= 60), len(long), 0.5, rule,
                what="share of sentences 60..119 among NotNext sentences from 120-sentence documents")


@check("every example draws its own coin: consecutive examples agree on is_next half the time")
def independent_coins(run):
    found = pairs_of(run)
    same = [found[k][2] == found[k + 1][2] for k in range(len(found) - 1) if found[k][0] == found[k + 1][0]]
    expect_rate(sum(same), len(same), 0.5,
                "each example decides IsNext / NotNext with a fresh random draw (not one draw per document "
                "or per call)", what="share of neighbouring examples of a document with the same is_next")


# --------------------------------------------------------------------------------------------
# make_nsp_examples: edge cases and randomness
# --------------------------------------------------------------------------------------------

def expect_same_examples(got, want, rule, what):
    if got == want:
        return
    if len(got) != len(want):
        raise Fail(rule, f"{what}: expected {len(want)} examples, your code produced {len(got)}")
    k = next(k for k, (g, w) in enumerate(zip(got, want)) if g != w)
    raise Fail(rule, f"{what}: example {k} differs\n  first call:  {show(want[k])}\n  second call: {show(got[k])}")


@check("one-sentence documents give no example but still supply NotNext sentences")
def one_sentence_documents(run):
    docs = corpus(3, [1, 4], max_words=4)
    rule = ("a document with one sentence has no consecutive pair, so no example; NotNext sentences of the other "
            "document come from it (the only other document)")
    for seed in range(4):
        rows = V.read_examples(run(V.examples, docs, CLS, SEP, 32, seed=seed))
        found = identify(rows, docs)
        expect_structure(rows, found, docs, 32)
        for d, i, label, (bd, bj) in found:
            want = (1, i + 1) if label == 1 else (0, 0)
            expect((bd, bj) == want, rule, f"seed {seed}: the example with A = sentence {i} of document 1 and "
                                           f"is_next = {label} has B = sentence {bj} of document {bd}")


@check("fewer than 2 documents raises ValueError")
def too_few_documents(run):
    for docs in ([[[5, 6], [7, 8]]], []):
        got = run(V.raises, docs, CLS, SEP, 16)
        expect(got == "ValueError", "with fewer than 2 documents there is nowhere to take a NotNext sentence "
               "from: raise ValueError", f"make_nsp_examples({docs}, ...) {got}")


@check("the documents are not modified")
def documents_unchanged(run):
    docs = corpus(5, [3, 4, 2, 5], max_words=10)
    got = run(V.examples, docs, CLS, SEP, 9, seed=1)
    rows = V.read_examples(got)
    expect_structure(rows, identify(rows, docs), docs, 9)
    if got["docs_after"] != docs:
        raise Fail("make_nsp_examples must not modify the documents (truncate copies, never the caller's lists)",
                   f"documents before the call: {show(docs)}\n  after the call: {show(got['docs_after'])}")


@check("the randomness comes from `generator` (or torch's global generator when it is None)")
def randomness_source(run):
    docs = corpus(6, [6, 6, 6, 6])
    read = V.read_examples
    a = read(run(V.examples, docs, CLS, SEP, 16, seed=7, global_seed=1))
    expect_structure(a, identify(a, docs), docs, 16)
    b = read(run(V.examples, docs, CLS, SEP, 16, seed=7, global_seed=2))
    expect_same_examples(b, a, "take every random draw from `generator`, so the same seed gives the same "
                         "examples", "two calls with generator seed 7")
    c = read(run(V.examples, docs, CLS, SEP, 16, seed=8, global_seed=1))
    expect(c != a, "the examples are random: a different generator seed gives different examples",
           "generator seeds 7 and 8 gave identical examples")
    d = read(run(V.examples, docs, CLS, SEP, 16, use_generator=False, global_seed=3))
    e = read(run(V.examples, docs, CLS, SEP, 16, use_generator=False, global_seed=3))
    expect_same_examples(e, d, "with generator=None, draw from torch's global generator (torch.manual_seed makes "
                         "it reproducible)", "two calls after torch.manual_seed(3)")
