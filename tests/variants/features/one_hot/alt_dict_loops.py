# CORRECT, written differently: plain Python -- sorted(set(...)) per column, a dict from category to output
# column built once in fit, and a loop over rows that sets one entry per known value.
import numpy as np


class OneHotEncoder:
    def __init__(self, drop=None):
        self.drop = drop

    def fit(self, X):
        rows = np.asarray(X).tolist()
        d = len(rows[0])
        self.categories_ = [np.array(sorted({r[j] for r in rows}), dtype=object) for j in range(d)]
        skip = 1 if self.drop == "first" else 0
        self._column, offset = [], 0
        for cats in self.categories_:
            kept = cats.tolist()[skip:]
            self._column.append({c: offset + i for i, c in enumerate(kept)})
            offset += len(kept)
        self._width = offset
        return self

    def transform(self, X):
        rows = np.asarray(X).tolist()
        out = np.zeros((len(rows), self._width))
        for i, row in enumerate(rows):
            for j, value in enumerate(row):
                col = self._column[j].get(value)
                if col is not None:
                    out[i, col] = 1.0
        return out

    def fit_transform(self, X):
        self.fit(X)
        return self.transform(X)

    def get_feature_names(self, input_features=None):
        prefixes = list(input_features) if input_features is not None else \
            ["x%d" % j for j in range(len(self.categories_))]
        names = [None] * self._width
        for j, mapping in enumerate(self._column):
            for c, col in mapping.items():
                names[col] = "%s_%s" % (prefixes[j], c)
        return names
