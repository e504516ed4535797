"""Visible checks: the tokenizer on a tricky sentence, the sorted vocabulary and smooth idf of a
3-document corpus, one L2-normalised TF-IDF row, and unknown words in transform."""
import math

import numpy as np
import torch

from mlkata.checks import check, expect_close, expect_equal, probe


def _snap(v):
    return v.copy() if isinstance(v, np.ndarray) else v


@probe
def tokens(sub, docs):
    return [list(sub.tokenize(d)) for d in docs]


@probe
def vectorize(sub, docs_fit, docs_apply=None, how="fit"):
    """Fit ``sub.TfidfVectorizer()`` on ``docs_fit`` (by ``fit`` or ``fit_transform``); report the
    vocabulary, idf_, the feature names and the TF-IDF rows of ``docs_fit`` and ``docs_apply``."""
    vec = sub.TfidfVectorizer()
    out = {}
    if how == "fit_transform":
        out["fit_transform"] = _snap(vec.fit_transform(docs_fit))
    else:
        out["fit_returns_self"] = vec.fit(docs_fit) is vec
    vocab = getattr(vec, "vocabulary_", None)
    out["vocabulary"] = {str(k): int(v) for k, v in vocab.items()} if isinstance(vocab, dict) else vocab
    out["idf"] = _snap(getattr(vec, "idf_", None))
    names = vec.get_feature_names()
    out["names"] = list(names) if isinstance(names, (list, tuple, np.ndarray)) else names
    out["train"] = _snap(vec.transform(docs_fit))
    if docs_apply is not None:
        out["test"] = _snap(vec.transform(docs_apply))
    return out


@probe
def fit_error(sub, docs):
    """The name of the exception ``fit(docs)`` raises, or None."""
    try:
        sub.TfidfVectorizer().fit(docs)
    except NotImplementedError:
        raise
    except ValueError:
        return "ValueError"
    except Exception as e:  # noqa: BLE001 - the type is what is judged
        return type(e).__name__
    return None


def t(a):
    return torch.as_tensor(np.asarray(a, dtype=np.float64))


DOCS = ["The cat sat.", "The dog sat on the log!", "A cat, a dog."]


@check("tokenize lowercases, keeps runs of 2+ word characters, and splits on punctuation")
def tokenizer(run):
    got = run(tokens, ["Hello, World! I'm 42 snake_case x-ray A."])
    expect_equal(got, [["hello", "world", "42", "snake_case", "ray"]], "tokens are the matches of (?u)\\b\\w\\w+\\b in "
                 "doc.lower(): one-character pieces ('i', 'm', 'x', 'a') are dropped, '_' and digits are word "
                 "characters", what="tokenize(\"Hello, World! I'm 42 snake_case x-ray A.\")")


@check("vocabulary_ is the sorted set of tokens; idf_ = ln((1 + n) / (1 + df)) + 1")
def vocabulary_and_idf(run):
    got = run(vectorize, DOCS)
    terms = ["cat", "dog", "log", "on", "sat", "the"]
    expect_equal(got["vocabulary"], {term: i for i, term in enumerate(terms)}, "the vocabulary holds every distinct "
                 "token of the fitted documents; columns follow the sorted terms", what="vocabulary_")
    expect_equal(got["names"], terms, "get_feature_names() lists the terms in column order", what="get_feature_names()")
    df = [2, 2, 1, 1, 2, 2]        # 'the' occurs 3 times but in 2 documents
    expect_close(got["idf"], t([math.log(4 / (1 + d)) + 1 for d in df]), "idf = ln((1 + n) / (1 + df)) + 1 with the "
                 "natural log, n = 3 documents, df = number of DOCUMENTS containing the term", rtol=1e-12,
                 what="idf_")


@check("a row is raw counts * idf, divided by its L2 norm")
def rows(run):
    got = run(vectorize, DOCS)
    idf = np.array([math.log(4 / (1 + d)) + 1 for d in (2, 2, 1, 1, 2, 2)])
    counts = np.array([[1, 0, 0, 0, 1, 1],          # the cat sat
                       [0, 1, 1, 1, 1, 2],          # the dog sat on the log ('the' twice)
                       [1, 1, 0, 0, 0, 0]])         # a cat a dog ('a' is too short)
    rows = counts * idf
    expect_close(got["train"], t(rows / np.linalg.norm(rows, axis=1, keepdims=True)), "tf is the raw count ('the' "
                 "twice counts 2); each row tf * idf is divided by its Euclidean norm", rtol=1e-12,
                 what="fit(DOCS).transform(DOCS) (columns cat dog log on sat the)")


@check("transform ignores unknown words; a document with no known word is a row of zeros, not nan")
def unknown_words(run):
    got = run(vectorize, DOCS, docs_apply=["Zebra on a log", "Nothing known here"])
    expect_close(got["test"], t([[0, 0, 1 / math.sqrt(2), 1 / math.sqrt(2), 0, 0], [0, 0, 0, 0, 0, 0]]),
                 "words outside the fitted vocabulary are ignored (no new column); with no known word the row is all "
                 "zeros (its norm is 0: do not divide by it)", rtol=1e-12,
                 what="transform(['Zebra on a log', 'Nothing known here']) (log and on have the same idf)")
