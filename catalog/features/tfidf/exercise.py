r"""TF-IDF: bag-of-words counts reweighted by how rare each term is, exactly as scikit-learn does.

A bag of words represents a document by how often each vocabulary term occurs in it.  Raw counts
let frequent, uninformative words ("the", "and") dominate every comparison.  TF-IDF multiplies
each count by the term's *inverse document frequency*, large for terms that occur in few
documents and small for terms that occur everywhere, then scales every document vector to unit
length so that long and short documents compare fairly (cosine similarity becomes a dot product).

This exercise pins every choice to the defaults of ``sklearn.feature_extraction.text.TfidfVectorizer()``:

* **tokens**: the document is lowercased (``str.lower``), then the tokens are the matches of the
  regular expression ``(?u)\b\w\w+\b``: runs of 2 or more word characters (letters, digits,
  underscore, any script).  Punctuation splits tokens ("don't" -> "don"; the "t" is too short).
* **vocabulary**: every distinct token of the fitted documents, sorted (Python string order);
  term ``vocabulary[i]`` is column i.
* **idf** ("smooth_idf"): ``idf(t) = ln((1 + n) / (1 + df(t))) + 1`` with n the number of fitted
  documents and df(t) the number of them that contain t (documents, not occurrences).  The +1 in
  the fraction acts like one extra document containing every term (no division by zero); the +1
  outside keeps terms that occur in every document from being zeroed out entirely.
* **tf**: the raw count of the term in the document (no log, no division by the length).
* **norm**: each row ``tf * idf`` is divided by its Euclidean (L2) norm; a row with no known
  term stays all zeros.

The vocabulary and the idf are learned by ``fit`` from the training documents only; ``transform``
reuses them (unknown words are ignored).  Write it with ``re`` and numpy, without scikit-learn.
"""
import re
from typing import Dict, List, Sequence

import numpy as np

TOKEN_PATTERN = r"(?u)\b\w\w+\b"


def tokenize(doc: str) -> List[str]:
    """The tokens of ``doc`` in order: matches of ``TOKEN_PATTERN`` in ``doc.lower()``."""
    ### BEGIN SOLUTION
    return re.findall(TOKEN_PATTERN, doc.lower())
    ### END SOLUTION


class TfidfVectorizer:
    """TF-IDF with ``TfidfVectorizer()``'s defaults (lowercase, token pattern, smooth idf, raw tf, L2).

    Fitted attributes (set by ``fit``):
        vocabulary_: dict mapping each term (str) to its column index; columns follow the sorted terms.
        idf_: float64 array ``(V,)``, ``idf_[vocabulary_[t]] = ln((1 + n) / (1 + df(t))) + 1``.
    """

    def fit(self, docs: Sequence[str]) -> "TfidfVectorizer":
        """Learn ``vocabulary_`` and ``idf_`` from the documents (a sequence of str); return ``self``.

        Raises:
            ValueError: when the documents contain no token at all (empty vocabulary).
        """
        ### BEGIN SOLUTION
        doc_tokens = [set(tokenize(d)) for d in docs]
        terms = sorted(set().union(*doc_tokens))
        if not terms:
            raise ValueError("empty vocabulary: the documents contain no token")
        self.vocabulary_: Dict[str, int] = {t: i for i, t in enumerate(terms)}
        df = np.zeros(len(terms))
        for tokens in doc_tokens:                              # each document counts once per term
            for t in tokens:
                df[self.vocabulary_[t]] += 1
        n = len(doc_tokens)
        self.idf_ = np.log((1 + n) / (1 + df)) + 1.0
        return self
        ### END SOLUTION

    def transform(self, docs: Sequence[str]) -> np.ndarray:
        """TF-IDF rows of the documents with the FITTED vocabulary and idf.

        Returns:
            float64 array ``(len(docs), V)``: row i is ``counts_i * idf_`` divided by its L2 norm
            (all zeros when document i has no term of the vocabulary).  Terms not in the
            vocabulary are ignored.
        """
        ### BEGIN SOLUTION
        X = np.zeros((len(docs), len(self.vocabulary_)))
        for i, d in enumerate(docs):
            for t in tokenize(d):
                j = self.vocabulary_.get(t)
                if j is not None:
                    X[i, j] += 1.0                             # raw counts
        X *= self.idf_                                         # (n, V) * (V,)
        norms = np.sqrt((X ** 2).sum(axis=1, keepdims=True))   # (n, 1)
        return X / np.where(norms == 0, 1.0, norms)
        ### END SOLUTION

    def fit_transform(self, docs: Sequence[str]) -> np.ndarray:
        """``fit(docs)`` then ``transform(docs)``."""
        ### BEGIN SOLUTION
        return self.fit(docs).transform(docs)
        ### END SOLUTION

    def get_feature_names(self) -> List[str]:
        """The terms in column order (the sorted vocabulary)."""
        ### BEGIN SOLUTION
        return sorted(self.vocabulary_, key=self.vocabulary_.get)
        ### END SOLUTION
