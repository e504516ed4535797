# BUG: vocabulary in order of first appearance instead of sorted.
import re

import numpy as np

TOKEN_PATTERN = r"(?u)\b\w\w+\b"


def tokenize(doc):
    return re.findall(TOKEN_PATTERN, doc.lower())


class TfidfVectorizer:
    def fit(self, docs):
        doc_tokens = [set(tokenize(d)) for d in docs]
        terms = list(dict.fromkeys(t for d in docs for t in tokenize(d)))
        if not terms:
            raise ValueError("empty vocabulary")
        self.vocabulary_ = {t: i for i, t in enumerate(terms)}
        df = np.zeros(len(terms))
        for tokens in doc_tokens:
            for t in tokens:
                df[self.vocabulary_[t]] += 1
        n = len(doc_tokens)
        self.idf_ = np.log((1 + n) / (1 + df)) + 1.0
        return self

    def transform(self, docs):
        X = np.zeros((len(docs), len(self.vocabulary_)))
        for i, d in enumerate(docs):
            for t in tokenize(d):
                j = self.vocabulary_.get(t)
                if j is not None:
                    X[i, j] += 1.0
        X *= self.idf_
        norms = np.sqrt((X ** 2).sum(axis=1, keepdims=True))
        return X / np.where(norms == 0, 1.0, norms)

    def fit_transform(self, docs):
        return self.fit(docs).transform(docs)

    def get_feature_names(self):
        return sorted(self.vocabulary_, key=self.vocabulary_.get)
