"""Hidden graders of features/tfidf: the tokenizer on punctuation, digits, underscores, apostrophes,
hyphens and non-Latin scripts; vocabulary, idf and TF-IDF rows against the grader's own
Counter-based oracle (tests/test_twins_features_tfidf.py shows it and the reference equal
sklearn.feature_extraction.text.TfidfVectorizer()) on random corpora; raw counts, document
frequency, unit rows, unknown words and empty rows; no refitting in transform; the empty
vocabulary error."""
import math
import re
from collections import Counter

import numpy as np

from mlkata.checks import Fail, check, expect_close, expect_equal, visible_module

V = visible_module("features/tfidf")
t = V.t


# --------------------------------------------------------------------------------------------
# The oracle: Counter per document, dict lookups, math.log -- no numpy broadcasting
# --------------------------------------------------------------------------------------------

WORD = re.compile(r"(?u)\b\w\w+\b")


def oracle_tokens(doc):
    return [m.group(0) for m in WORD.finditer(doc.lower())]


def oracle_fit(docs):
    counts = [Counter(oracle_tokens(d)) for d in docs]
    df = Counter()
    for c in counts:
        df.update(c.keys())
    terms = sorted(df)
    n = len(docs)
    return terms, [math.log((1 + n) / (1 + df[w])) + 1 for w in terms]


def oracle_transform(fitted, docs):
    terms, idf = fitted
    col = {w: j for j, w in enumerate(terms)}
    out = np.zeros((len(docs), len(terms)))
    for i, d in enumerate(docs):
        for w, c in Counter(oracle_tokens(d)).items():
            if w in col:
                out[i, col[w]] = c * idf[col[w]]
        norm = math.sqrt(sum(v * v for v in out[i]))
        if norm > 0:
            out[i] /= norm
    return out


POOL = ["the", "The", "THE", "cat", "dog", "sat", "on", "mat", "a", "I", "don't", "state-of-the-art", "x",
        "42", "3.14", "R2D2", "snake_case", "naïve", "café", "Straße", "über", "日本語", "данные", "ΣΟΦΙΑ", "e-mail",
        "data", "Data", "model", "models", "learning", "deep", "!!", "...", ",", "(ok)", "it's", "__init__", "u.s.a."]


def random_corpus(seed, n_docs=None):
    rng = np.random.default_rng(seed)
    n_docs = n_docs or int(rng.integers(2, 9))
    docs = []
    for _ in range(n_docs):
        words = rng.choice(POOL, size=int(rng.integers(0, 25))).tolist()
        seps = rng.choice([" ", "  ", ", ", "\n", "\t", "-", "/"], size=len(words)).tolist()
        docs.append("".join(w + s for w, s in zip(words, seps)))
    if not any(oracle_tokens(d) for d in docs):
        docs.append("some words")
    queries = [" ".join(rng.choice(POOL + ["unseen", "zebra", "Quux"], size=int(rng.integers(0, 12))).tolist())
               for _ in range(4)]
    return docs, queries


TOKENS = ("tokens are the matches of (?u)\\b\\w\\w+\\b in doc.lower(): runs of 2+ word characters (letters of any "
          "script, digits, '_'); punctuation and whitespace separate them; one-character pieces are dropped")
VOCAB = "vocabulary_ maps every distinct token of the fitted documents to its index in the sorted list of terms"
IDF = "idf_ = ln((1 + n) / (1 + df)) + 1, df = the number of fitted DOCUMENTS that contain the term"
ROW = ("row i = raw counts * idf_, divided by its L2 norm, with the FITTED vocabulary and idf; unknown words are "
       "ignored and a row with no known word stays zero")


def expect_fitted(got, fitted, what):
    terms, idf = fitted
    expect_equal(got["vocabulary"], {w: j for j, w in enumerate(terms)}, VOCAB, what=f"vocabulary_ ({what})")
    expect_close(got["idf"], t(idf), IDF, rtol=1e-12, atol=0, what=f"idf_ ({what})")


@check("tokenize: apostrophes, hyphens, digits, underscores, accents and non-Latin scripts")
def tokenizer_rules(run):
    docs = ["Don't stop -- state-of-the-art e-mail!", "R2D2 and C3PO: 3.14 vs 42, __init__ x_y",
            "Café NAÏVE Straße, ÜBER alles.", "日本語 テキスト データ", "ΣΟΦΙΑ данные Ωmega", "a b c I", "", "  \n\t "]
    got = run(V.tokens, docs)
    for d, g in zip(docs, got):
        expect_equal(g, oracle_tokens(d), TOKENS, what=f"tokenize({d!r})")


@check("vocabulary, idf and TF-IDF rows agree with sklearn's TfidfVectorizer() on random corpora", points=2)
def agrees_random(run):
    for seed in range(8):
        docs, queries = random_corpus(seed)
        fitted = oracle_fit(docs)
        got = run(V.vectorize, docs, docs_apply=queries)
        what = f"{len(docs)} documents, seed {seed}"
        expect_fitted(got, fitted, what)
        expect_close(got["train"], t(oracle_transform(fitted, docs)), ROW, rtol=1e-9, atol=1e-12,
                     what=f"transform of the fitted documents ({what}); first document {docs[0][:60]!r}")
        expect_close(got["test"], t(oracle_transform(fitted, queries)), ROW, rtol=1e-9, atol=1e-12,
                     what=f"transform of new documents ({what}); first {queries[0][:60]!r}")


@check("document frequency counts documents, not occurrences; tf counts occurrences", points=2)
def df_and_tf(run):
    docs = ["spam spam spam spam eggs", "eggs ham", "ham ham bacon", "toast"]
    fitted = oracle_fit(docs)
    got = run(V.vectorize, docs)
    expect_fitted(got, fitted, "'spam' 4 times in one document: df = 1")
    expect_close(got["train"], t(oracle_transform(fitted, docs)), "tf is the raw count of the term in the document "
                 "(4 for 'spam' in the first one) -- not 1, not divided by the length", rtol=1e-9, atol=1e-12,
                 what=f"transform({docs})")


@check("transform never refits: one new document is weighted with the training idf and vocabulary")
def no_refit(run):
    docs, _ = random_corpus(31, n_docs=8)
    fitted = oracle_fit(docs)
    single = [docs[2] + " zebra " + docs[5]]
    got = run(V.vectorize, docs, docs_apply=single)
    expect_close(got["test"], t(oracle_transform(fitted, single)), "transform uses vocabulary_ and idf_ learned in "
                 "fit; recomputing them from the documents given (here a single one) changes columns and weights",
                 rtol=1e-9, atol=1e-12, what=f"transform of one new document {single[0][:60]!r}")
    got = run(V.vectorize, docs, docs_apply=docs[:3], how="fit_transform")
    expect_close(got["fit_transform"], t(oracle_transform(fitted, docs)), "fit_transform(docs) equals "
                 "fit(docs).transform(docs)", rtol=1e-9, atol=1e-12, what="fit_transform")
    expect_close(got["test"], t(oracle_transform(fitted, docs[:3])), ROW, rtol=1e-9, atol=1e-12,
                 what="transform of the first 3 documents after fit_transform")


@check("every row has unit L2 norm or is all zeros (no nan), also for documents of only unknown or short words")
def unit_rows(run):
    docs, _ = random_corpus(41, n_docs=6)
    queries = ["", "a b c", "zebra quux", "!!! ...", docs[0], docs[1] * 50]
    got = run(V.vectorize, docs, docs_apply=queries)
    fitted = oracle_fit(docs)
    expect_close(got["test"], t(oracle_transform(fitted, queries)), ROW + " (norm 0: leave the zeros, dividing by 0 "
                 "gives nan)", rtol=1e-9, atol=1e-12, what=f"transform({[q[:20] for q in queries]})")


@check("fit on documents without a single token raises ValueError (empty vocabulary)")
def empty_vocabulary(run):
    got = run(V.fit_error, ["", "a b", "!!! ?"])
    if got != "ValueError":
        raise Fail("fit raises ValueError when the documents contain no token at all (the vocabulary would be empty)",
                   f"fit(['', 'a b', '!!! ?']) {'returned normally' if got is None else 'raised ' + str(got)}")


@check("a larger corpus in mixed scripts: still exact (idf of terms in every document is exactly 1)")
def larger_corpus(run):
    rng = np.random.default_rng(51)
    docs = ["common " + " ".join(rng.choice(POOL, size=40).tolist()) for _ in range(60)]
    fitted = oracle_fit(docs)
    got = run(V.vectorize, docs)
    expect_fitted(got, fitted, "60 documents, each containing 'common' (idf 1)")
    expect_close(got["train"], t(oracle_transform(fitted, docs)), ROW, rtol=1e-9, atol=1e-12,
                 what="transform of 60 documents")
