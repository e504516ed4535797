# CORRECT, written differently: Counter per document and a torch float64 pipeline -- counts scattered with
# index_put_(accumulate=True), idf from torch.log1p, rows normalised with F.normalize (which clamps a zero norm,
# leaving zero rows at 0); the result is returned as a numpy array.
import re
from collections import Counter

import numpy as np
import torch
import torch.nn.functional as F

_WORD = re.compile(r"(?u)\b\w\w+\b")


def tokenize(doc):
    return [m.group() for m in _WORD.finditer(doc.lower())]


class TfidfVectorizer:
    def fit(self, docs):
        df = Counter()
        for d in docs:
            df.update(set(tokenize(d)))
        if not df:
            raise ValueError("empty vocabulary; the documents contain no token")
        terms = sorted(df)
        self.vocabulary_ = dict(zip(terms, range(len(terms))))
        n = torch.tensor(float(len(docs)), dtype=torch.float64)
        dfs = torch.tensor([float(df[w]) for w in terms], dtype=torch.float64)
        self.idf_ = (torch.log1p(n) - torch.log1p(dfs) + 1.0).numpy()
        return self

    def transform(self, docs):
        rows, cols, vals = [], [], []
        for i, d in enumerate(docs):
            for w, c in Counter(tokenize(d)).items():
                if w in self.vocabulary_:
                    rows.append(i)
                    cols.append(self.vocabulary_[w])
                    vals.append(float(c))
        X = torch.zeros(len(docs), len(self.vocabulary_), dtype=torch.float64)
        if rows:
            X.index_put_((torch.tensor(rows), torch.tensor(cols)), torch.tensor(vals, dtype=torch.float64),
                         accumulate=True)
        X = X * torch.from_numpy(self.idf_)
        return F.normalize(X, p=2.0, dim=1).numpy()

    def fit_transform(self, docs):
        self.fit(docs)
        return self.transform(docs)

    def get_feature_names(self):
        return [w for w, _ in sorted(self.vocabulary_.items(), key=lambda kv: kv[1])]
